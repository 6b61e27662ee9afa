// The portal in a real headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core),
// against `patchbay demo` (started by .ci/browser-tests): sign in, see a diagnostic for a broken
// file, import the sample connector, create a connection, try an operation and see its response,
// turn a flow on and see a run appear after an event at the sample API; at 1280 px and phone width.
// Screenshots of the main pages go to docs/screenshots/. Any failed step exits non-zero.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const portal = required("PORTAL_URL");
const token = required("PORTAL_TOKEN");
const sample = required("SAMPLE_URL");
const shots = process.env.SCREENSHOTS || join(root, "docs", "screenshots");
const apiKey = "contoso-demo-key";
mkdirSync(shots, { recursive: true });

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (run .ci/browser-tests)`);
  return value;
}

const profile = mkdtempSync(join(tmpdir(), "patchbay-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1280, height: 900 },
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run"],
});
context.setDefaultTimeout(15000);
const page = context.pages()[0] || (await context.newPage());
const failures = [];
page.on("pageerror", (error) => failures.push(`script error: ${error.message}`));
const shot = (name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
const step = async (name, body) => {
  const started = Date.now();
  await body();
  console.log(`ok   ${name} (${Date.now() - started} ms)`);
};

try {
  await step("sign in with an API token", async () => {
    await page.goto(`${portal}/portal/connectors`);
    assert.match(page.url(), /\/portal\/login\?next=/);
    await shot("login");
    await page.getByLabel("API token").fill(token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Connectors" }).waitFor();
    assert.equal(await page.locator("a[aria-current=page]").innerText(), "Connectors");
  });

  await step("a broken file shows its diagnostics against the file", async () => {
    await page.getByRole("link", { name: "Import a connector" }).click();
    await page.getByLabel("Name").fill("Broken");
    await page.locator("input[name=definition]").setInputFiles({
      name: "openapi.json", mimeType: "application/json",
      buffer: Buffer.from('{\n  "openapi": "3.0.0",\n  "paths": {,}\n}\n'),
    });
    await page.getByRole("button", { name: "Import" }).click();
    await page.getByRole("heading", { name: "The file was not imported" }).waitFor();
    const diagnostic = page.locator(".diagnostic").first();
    assert.match(await diagnostic.innerText(), /line \d+/);
    assert.equal(await page.locator(".source .flagged").count() > 0, true, "the line is shown");
    await shot("import-diagnostics");
  });

  const sampleHost = new URL(sample).host;
  const packageFile = (name) =>
    readFileSync(join(root, "examples", "contoso-tasks", "connector", name), "utf8").replaceAll("localhost:3000", sampleHost);
  const name = "Contoso Tasks (portal)";
  await step("import the sample connector", async () => {
    await page.goto(`${portal}/portal/connectors/import`);
    await page.getByLabel("Name").fill(name);
    await page.locator("input[name=definition]").setInputFiles({
      name: "apiDefinition.swagger.json", mimeType: "application/json", buffer: Buffer.from(packageFile("apiDefinition.swagger.json")),
    });
    await page.locator("input[name=properties]").setInputFiles({
      name: "apiProperties.json", mimeType: "application/json", buffer: Buffer.from(packageFile("apiProperties.json")),
    });
    await page.getByRole("button", { name: "Import" }).click();
    await page.getByRole("heading", { name }).waitFor();
    await page.getByRole("cell", { name: "ListProjects" }).waitFor();
    await shot("connector");
  });

  await step("edit the definition as JSON and see the diagnostics beside it", async () => {
    await page.getByRole("link", { name: "Edit as JSON" }).click();
    const editor = page.locator("textarea[name=definition]");
    const text = await editor.inputValue();
    await editor.fill(text.replace('"swagger": "2.0"', '"swagger": "2.0",,'));
    await page.getByRole("button", { name: "Save as a new revision" }).click();
    await page.locator("aside .diagnostic").first().waitFor();
    assert.match(await page.locator("aside .diagnostic").first().innerText(), /apiDefinition\.swagger\.json, line \d+/);
    await shot("connector-edit");
  });

  await step("make a connector from a sample request", async () => {
    await page.goto(`${portal}/portal/connectors`);
    await page.getByRole("link", { name: "New from a sample" }).click();
    await page.getByLabel("Name").fill("Projects from a sample");
    await page.getByLabel("Operation id").fill("ListThings");
    await page.getByLabel(/^Request/).fill(`curl -H 'X-API-Key: ${apiKey}' '${sample}/projects?$top=5'`);
    await page.getByLabel("Sample response (JSON)").fill('{"value": [{"id": "proj-1", "name": "A"}]}');
    await shot("from-sample");
    await page.getByRole("button", { name: "Create the connector" }).click();
    await page.getByRole("heading", { name: "Projects from a sample" }).waitFor();
    await page.getByRole("cell", { name: "ListThings" }).first().waitFor();
  });

  await step("search the connector list", async () => {
    await page.goto(`${portal}/portal/connectors`);
    await page.getByRole("searchbox").fill("portal");
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByRole("link", { name }).waitFor();
    await shot("connectors");
  });

  await step("create a connection with an API key", async () => {
    await page.getByRole("link", { name }).click();
    await page.getByRole("link", { name: "New connection" }).click();
    await page.locator("input[name='v:apiKey:api_key']").fill(apiKey);
    await page.getByLabel("Name", { exact: true }).fill("Portal connection");
    await page.getByRole("button", { name: "Create connection" }).click();
    await page.getByRole("heading", { name: "Portal connection" }).waitFor();
    assert.equal(await page.locator("#status").innerText(), "connected");
    await shot("connection");
  });

  await step("try an operation and see its response", async () => {
    await page.getByRole("link", { name: "CreateProject" }).click();
    await page.locator("textarea[name='p:body']").fill('{"name": "From the browser"}');
    await page.getByRole("button", { name: "Send" }).click();
    await page.locator("#response-status").waitFor();
    assert.equal(await page.locator("#response-status").innerText(), "201");
    assert.match(await page.locator("#response-body").innerText(), /From the browser/);
    const shown = await page.locator("main").innerText();
    assert.match(shown, /Request sent/);
    assert.equal(shown.includes(apiKey), false, "the API key is masked");
    await shot("try-operation");
  });

  await step("turn a flow on and see a run appear after an event", async () => {
    await page.goto(`${portal}/portal/flows`);
    await shot("flows");
    await page.getByRole("link", { name: "Comment on completed tasks" }).click();
    if ((await page.locator("#flow-state").innerText()) === "on") {
      await page.getByRole("button", { name: "Turn off" }).click();
      await page.locator("#flow-state", { hasText: "off" }).waitFor();
    }
    await page.getByRole("button", { name: "Turn on" }).click();
    await page.locator("#flow-state", { hasText: "on" }).waitFor();
    const before = await page.locator("#runs tbody tr").count();
    const call = async (method, path, body) => {
      const response = await fetch(`${sample}${path}`, {
        method, headers: { "X-API-Key": apiKey, "Content-Type": "application/json" }, body: JSON.stringify(body),
      });
      assert.ok(response.ok, `${method} ${path}: ${response.status}`);
      return response.json();
    };
    const project = await call("POST", "/projects", { name: "Browser test" });
    const task = await call("POST", `/projects/${project.id}/tasks`, { title: "Finish the browser test" });
    await call("PATCH", `/tasks/${task.id}`, { completed: true });
    let after = before;
    for (let i = 0; i < 60 && after <= before; i++) {
      await page.waitForTimeout(500);
      await page.reload();
      after = await page.locator("#runs tbody tr").count();
    }
    assert.ok(after > before, `a new run appears (${before} before, ${after} after)`);
    await page.locator(".node.trigger").first().waitFor();
    await shot("flow");
    await page.locator("#runs tbody tr a").first().click();
    await page.locator("#run-status").waitFor();
    await page.getByText("Add_a_comment").first().waitFor();
    await shot("run");
  });

  await step("find a flow's failed action and its error", async () => {
    const api = async (method, path, body) => {
      const response = await fetch(`${portal}${path}`, {
        method, headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, body: await response.json() };
    };
    const flows = await api("GET", "/api/flows");
    const flow = flows.body.find((f) => f.name === "Create a task and answer");
    assert.ok(flow, "the demo's Request flow exists");
    // A project that does not exist: the connector action fails, the flow's failure branch answers.
    const answered = await api("POST", `/api/flows/${flow.id}/run`, { projectId: "no-such-project", title: "Lost" });
    assert.notEqual(answered.status, 201, `the run did not create a task: ${JSON.stringify(answered.body)}`);
    await page.goto(`${portal}/portal/flows`);
    await page.getByRole("link", { name: "Create a task and answer" }).click();
    await page.locator("#runs tbody tr a").first().click();
    await page.locator("#run-status").waitFor();
    const failed = page.locator("details.action[open]", { has: page.locator(".badge.Failed") });
    await failed.first().waitFor();
    assert.match(await failed.first().locator("summary").innerText(), /Create_task/);
    assert.match(await failed.first().innerText(), /Error/);
    await shot("run-failed");
  });

  await step("pages fit a phone's width", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const path of ["/portal/connectors", "/portal/connections", "/portal/flows"]) {
      await page.goto(`${portal}${path}`);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 1, `${path} scrolls sideways by ${overflow} px`);
    }
    await page.goto(`${portal}/portal/flows`);
    await shot("flows-phone");
  });

  await step("keyboard: the skip link and the navigation are reachable", async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${portal}/portal/connectors`);
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement.textContent), "Skip to content");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement.textContent), "Connectors");
  });

  await step("sign out", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in to patchbay" }).waitFor();
    await page.goto(`${portal}/portal/flows`);
    assert.match(page.url(), /\/portal\/login/);
  });
  assert.deepEqual(failures, []);
  console.log("browser tests: all passed");
} catch (error) {
  await page.screenshot({ path: join(tmpdir(), "patchbay-portal-failure.png"), fullPage: true }).catch(() => {});
  console.error(`FAIL ${error.stack || error}`);
  console.error(`(the page at failure: ${page.url()}; screenshot ${join(tmpdir(), "patchbay-portal-failure.png")})`);
  process.exitCode = 1;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
