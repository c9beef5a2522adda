//! Inline parts of a received message: an HTML image whose source is
//! `cid:…` (RFC 2392) names one of the message's own files by its
//! Content-ID. Once those files are stored, the image points at the
//! stored file, served to signed-in users of the workspace only, so the
//! agent sees it without anything being loaded from outside.

use super::messages::AttachmentRef;
use percent_encoding::percent_decode_str;

/// Where a stored file is served to the desktop.
pub(crate) fn attachment_url(id: u64) -> String {
    format!("/api/v1/attachments/{id}")
}

/// `html` (serialised by a sanitiser: a `<` in text is `&lt;`, and every
/// attribute is in double quotes, a quote in it `&quot;`) with the source
/// of each `<img src="cid:…">` naming one of `files` pointed at it; a
/// `cid:` naming none is left as it is (it loads nothing).
pub(crate) fn link_parts(html: &str, files: &[AttachmentRef]) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find("<img") {
        // The tag ends at the first `>` outside a quoted value.
        let tag_len = rest[at..]
            .char_indices()
            .scan(false, |quoted, (i, c)| {
                *quoted ^= c == '"';
                Some((i, c, *quoted))
            })
            .find(|&(_, c, quoted)| c == '>' && !quoted)
            .map_or(rest.len() - at, |(i, _, _)| i + 1);
        out.push_str(&rest[..at]);
        out.push_str(&linked_tag(&rest[at..at + tag_len], files));
        rest = &rest[at + tag_len..];
    }
    out.push_str(rest);
    out
}

/// One `<img …>` tag with its `src` pointed at the part it names, if any.
fn linked_tag(tag: &str, files: &[AttachmentRef]) -> String {
    const SRC: &str = " src=\"";
    let Some(at) = tag.find(SRC) else { return tag.to_string() };
    let value_at = at + SRC.len();
    let end = tag[value_at..].find('"').map_or(tag.len(), |e| value_at + e);
    match part_of(&tag[value_at..end], files) {
        Some(file) => format!("{}{}{}", &tag[..value_at], attachment_url(file.id), &tag[end..]),
        None => tag.to_string(),
    }
}

/// The file a `cid:` URL (as written in HTML) names.
fn part_of<'a>(value: &str, files: &'a [AttachmentRef]) -> Option<&'a AttachmentRef> {
    let id = value.get(..4).filter(|s| s.eq_ignore_ascii_case("cid:")).map(|_| &value[4..])?;
    // The serialiser wrote `&` as `&amp;`; the URL form may %-encode.
    let id = id.replace("&amp;", "&");
    let id = percent_decode_str(&id).decode_utf8_lossy();
    let named = |f: &&AttachmentRef| f.content_id.as_deref().is_some_and(|c| c == id);
    let named_loosely = |f: &&AttachmentRef| f.content_id.as_deref().is_some_and(|c| c.eq_ignore_ascii_case(&id));
    files.iter().find(named).or_else(|| files.iter().find(named_loosely))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(id: u64, content_id: &str) -> AttachmentRef {
        AttachmentRef {
            id,
            name: format!("p{id}.png"),
            content_type: "image/png".into(),
            size: 1,
            sha256: None,
            content_id: Some(content_id.into()),
        }
    }

    #[test]
    fn cid_images_point_at_their_stored_parts() {
        let files = [part(7, "logo@x"), part(8, "a&b@x"), part(9, "Shot@X")];
        let html = concat!(
            "<p><img src=\"cid:logo@x\" alt=\"l\"><img src=\"CID:a&amp;b%40x\">",
            "<img src=\"cid:shot@x\"><img src=\"cid:missing@x\"><img alt=\"a>b\" src=\"cid:logo@x\">",
            "<img alt=\"none\"></p><p>src=\"cid:logo@x\" as text</p>"
        );
        assert_eq!(
            link_parts(html, &files),
            concat!(
                "<p><img src=\"/api/v1/attachments/7\" alt=\"l\"><img src=\"/api/v1/attachments/8\">",
                "<img src=\"/api/v1/attachments/9\"><img src=\"cid:missing@x\">",
                "<img alt=\"a>b\" src=\"/api/v1/attachments/7\"><img alt=\"none\"></p>",
                "<p>src=\"cid:logo@x\" as text</p>"
            )
        );
        assert_eq!(link_parts("<p>no images</p>", &files), "<p>no images</p>");
        assert_eq!(link_parts("<p><img src=\"cid:logo@x", &files), "<p><img src=\"/api/v1/attachments/7");
    }
}
