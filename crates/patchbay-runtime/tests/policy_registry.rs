//! The registry covers the whole template catalogue: every template of
//! `patchbay_spec::model::TEMPLATES` has exactly one constructor, except `pollingtrigger`, which
//! the trigger engine handles; and every constructor rejects an instance without its required
//! parameters instead of panicking.

use patchbay_runtime::policy::{Params, PolicyError, REGISTRY};
use patchbay_spec::model::{PolicyTemplate, TEMPLATES};
use serde_json::Map;

#[test]
fn every_template_but_polling_is_registered_once() {
    for spec in TEMPLATES {
        let entries = REGISTRY.iter().filter(|(t, _)| *t == spec.template).count();
        if spec.template == PolicyTemplate::PollingTrigger {
            assert_eq!(entries, 0, "pollingtrigger belongs to the trigger engine");
        } else {
            assert_eq!(entries, 1, "`{}` should be in REGISTRY once", spec.id);
        }
    }
    assert_eq!(REGISTRY.len(), TEMPLATES.len() - 1);
}

#[test]
fn constructors_need_their_required_parameters() {
    for (template, build) in REGISTRY {
        let spec = template.spec();
        let result = build(&Params::from_map(spec.id, Map::new()));
        assert!(
            matches!(result, Err(PolicyError::MissingParameter(_))),
            "`{}` without parameters should report a missing one",
            spec.id
        );
    }
}
