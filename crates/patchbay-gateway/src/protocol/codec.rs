//! Encoding and decoding frames; the decoder never panics, whatever the bytes.

use super::{Failure, FailureKind, Frame, FrameError, RequestHead, ResponseHead};
use bytes::{BufMut, Bytes, BytesMut};

const REQUEST: u8 = 1;
const RESPONSE: u8 = 2;
const BODY: u8 = 3;
const END: u8 = 4;
const CANCEL: u8 = 5;
const ERROR: u8 = 6;

/// The bytes of one frame of exchange `id`.
pub fn encode(id: u64, frame: &Frame) -> Bytes {
    let mut out = BytesMut::with_capacity(9 + payload_hint(frame));
    let kind = match frame {
        Frame::Request(_) => REQUEST,
        Frame::Response(_) => RESPONSE,
        Frame::Body(_) => BODY,
        Frame::End => END,
        Frame::Cancel => CANCEL,
        Frame::Error(_) => ERROR,
    };
    out.put_u8(kind);
    out.put_u64(id);
    match frame {
        Frame::Request(head) => {
            put_text(&mut out, &head.method);
            put_text(&mut out, &head.url);
            out.put_u64(head.body_len);
            put_headers(&mut out, &head.headers);
        }
        Frame::Response(head) => {
            out.put_u16(head.status);
            put_headers(&mut out, &head.headers);
        }
        Frame::Body(chunk) => out.put_slice(chunk),
        Frame::End | Frame::Cancel => {}
        Frame::Error(failure) => {
            out.put_u8(failure.kind as u8);
            out.put_slice(failure.message.as_bytes());
        }
    }
    out.freeze()
}

/// The exchange id and frame in `bytes`.
pub fn decode(bytes: &Bytes) -> Result<(u64, Frame), FrameError> {
    let mut reader = Reader { bytes, at: 0 };
    let kind = reader.u8()?;
    let id = u64::from_be_bytes(reader.take(8)?.try_into().map_err(|_| FrameError("short id"))?);
    let frame = match kind {
        REQUEST => {
            let method = reader.text()?;
            let url = reader.text()?;
            let body_len =
                u64::from_be_bytes(reader.take(8)?.try_into().map_err(|_| FrameError("short length"))?);
            let headers = reader.headers()?;
            Frame::Request(RequestHead { method, url, headers, body_len })
        }
        RESPONSE => {
            let status = reader.u16()?;
            Frame::Response(ResponseHead { status, headers: reader.headers()? })
        }
        BODY => Frame::Body(bytes.slice(reader.at..)),
        END => Frame::End,
        CANCEL => Frame::Cancel,
        ERROR => {
            let kind = FailureKind::from_byte(reader.u8()?);
            let message = String::from_utf8_lossy(reader.rest()).into_owned();
            Frame::Error(Failure { kind, message })
        }
        _ => return Err(FrameError("unknown frame kind")),
    };
    if matches!(frame, Frame::Request(_) | Frame::Response(_) | Frame::End | Frame::Cancel)
        && !reader.rest().is_empty()
    {
        return Err(FrameError("trailing bytes"));
    }
    Ok((id, frame))
}

/// Roughly how many payload bytes a frame takes.
fn payload_hint(frame: &Frame) -> usize {
    match frame {
        Frame::Body(chunk) => chunk.len(),
        Frame::Request(head) => head.url.len() + 64 + head.headers.len() * 48,
        _ => 64,
    }
}

/// A text field: u16 length and UTF-8 bytes (cut at 64 KiB, on a character boundary).
fn put_text(out: &mut BytesMut, text: &str) {
    let mut end = text.len().min(usize::from(u16::MAX));
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    out.put_u16(end as u16);
    out.put_slice(&text.as_bytes()[..end]);
}

/// Headers: u16 count, then each name (text) and value (u32 length and bytes).
fn put_headers(out: &mut BytesMut, headers: &[(String, Bytes)]) {
    let count = headers.len().min(usize::from(u16::MAX));
    out.put_u16(count as u16);
    for (name, value) in &headers[..count] {
        put_text(out, name);
        out.put_u32(u32::try_from(value.len()).unwrap_or(u32::MAX));
        out.put_slice(&value[..value.len().min(u32::MAX as usize)]);
    }
}

/// A cursor over a received frame.
struct Reader<'a> {
    bytes: &'a Bytes,
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, len: usize) -> Result<&[u8], FrameError> {
        let end =
            self.at.checked_add(len).filter(|end| *end <= self.bytes.len()).ok_or(FrameError("truncated"))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn u8(&mut self) -> Result<u8, FrameError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, FrameError> {
        let bytes = self.take(2)?;
        Ok(u16::from_be_bytes([bytes[0], bytes[1]]))
    }

    fn u32(&mut self) -> Result<u32, FrameError> {
        let bytes = self.take(4)?;
        Ok(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    fn text(&mut self) -> Result<String, FrameError> {
        let len = usize::from(self.u16()?);
        String::from_utf8(self.take(len)?.to_vec()).map_err(|_| FrameError("text is not UTF-8"))
    }

    fn headers(&mut self) -> Result<Vec<(String, Bytes)>, FrameError> {
        let count = self.u16()?;
        let mut headers = Vec::with_capacity(usize::from(count).min(256));
        for _ in 0..count {
            let name = self.text()?;
            let len = self.u32()? as usize;
            let start = self.at;
            self.take(len)?;
            headers.push((name, self.bytes.slice(start..start + len)));
        }
        Ok(headers)
    }

    fn rest(&self) -> &[u8] {
        &self.bytes[self.at..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn round_trip(frame: Frame) {
        let bytes = encode(42, &frame);
        assert_eq!(decode(&bytes), Ok((42, frame)));
    }

    #[test]
    fn every_kind_round_trips() {
        round_trip(Frame::Request(RequestHead {
            method: "POST".into(),
            url: "http://10.0.0.5:8080/x?y=1".into(),
            headers: vec![
                ("content-type".into(), Bytes::from_static(b"application/json")),
                ("x-e".into(), Bytes::new()),
            ],
            body_len: 5,
        }));
        round_trip(Frame::Response(ResponseHead { status: 204, headers: vec![] }));
        round_trip(Frame::Body(Bytes::from_static(b"hello")));
        round_trip(Frame::Body(Bytes::new()));
        round_trip(Frame::End);
        round_trip(Frame::Cancel);
        round_trip(Frame::Error(Failure { kind: FailureKind::Forbidden, message: "not allowed".into() }));
    }

    #[test]
    fn truncated_and_unknown_frames_are_errors() {
        assert_eq!(decode(&Bytes::new()), Err(FrameError("truncated")));
        assert_eq!(
            decode(&Bytes::from_static(&[9, 0, 0, 0, 0, 0, 0, 0, 1])),
            Err(FrameError("unknown frame kind"))
        );
        let whole = encode(
            7,
            &Frame::Response(ResponseHead {
                status: 200,
                headers: vec![("a".into(), Bytes::from_static(b"b"))],
            }),
        );
        for cut in 0..whole.len() {
            assert!(decode(&whole.slice(..cut)).is_err(), "cut at {cut}");
        }
    }

    proptest! {
        #[test]
        fn any_bytes_decode_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode(&Bytes::from(bytes));
        }
    }
}
