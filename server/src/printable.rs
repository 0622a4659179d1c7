//! Printable pages for people (print to PDF from any browser): retirement
//! certificates and trade attestations share one look, the escaping of
//! every value, the QR code of the public check URL and the paragraph that
//! places the record in the audit log.

use crate::audit::views::AuditReceipt;

pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The QR code of `url` as inline SVG.
pub fn qr_svg(url: &str) -> String {
    use qrcode::render::svg;
    match qrcode::QrCode::new(url.as_bytes()) {
        Ok(code) => {
            let svg = code.render::<svg::Color>().min_dimensions(180, 180).build();
            // Inline in HTML: drop the XML declaration.
            match svg.find("<svg") {
                Some(i) => svg[i..].to_string(),
                None => svg,
            }
        }
        // A URL too long for a QR code (over ~2,900 bytes) cannot come from
        // a sane base URL; print none rather than fail the page.
        Err(_) => String::new(),
    }
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PrintFormat {
    /// `json` (default) or `html` (printable, with a QR code); an `Accept:
    /// text/html` header asks for the page too.
    pub format: Option<String>,
}

/// Whether a request for a printable record asks for the page: `format`
/// `html`, or no `format` and an `Accept: text/html` header (a browser
/// following a link); `json` or nothing else asks for JSON.
pub fn wants_html(
    format: Option<&str>,
    req: &actix_web::HttpRequest,
) -> Result<bool, crate::error::ApiError> {
    match format {
        Some("html") => Ok(true),
        Some("json") => Ok(false),
        None => Ok(req
            .headers()
            .get(actix_web::http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.starts_with("text/html"))),
        Some(_) => Err(crate::error::ApiError::Invalid {
            param: "format".into(),
            detail: "format: json or html".into(),
        }),
    }
}

/// One row of a page's table, both cells escaped.
pub fn row(label: &str, value: &str) -> String {
    format!(
        "<tr><th>{}</th><td>{}</td></tr>",
        escape(label),
        escape(value)
    )
}

/// A printable page.
pub struct Page<'a> {
    /// The browser tab's title.
    pub title: String,
    /// The heading printed at the top.
    pub heading: &'a str,
    /// Rows made with [`row`].
    pub rows: Vec<String>,
    /// Extra HTML after the table (already escaped).
    pub extra: String,
    /// The public check URL, printed and as a QR code.
    pub check_url: &'a str,
    pub audit: Option<&'a AuditReceipt>,
}

pub fn render(p: &Page<'_>) -> String {
    let audit = match p.audit {
        Some(a) => format!(
            "<p class=\"audit\">Recorded in the public audit log as leaf {} of a tree of {} leaves, root {}, signed by key {}.</p>",
            a.leaf_index,
            a.tree_head.tree_size,
            escape(&a.tree_head.root_hash),
            escape(&a.tree_head.public_key)
        ),
        None => "<p class=\"audit\">The audit-log proof is being sealed; fetch this page again in a few seconds.</p>".into(),
    };
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: "Noto Sans", "PingFang SC", sans-serif; max-width: 46rem; margin: 2rem auto; color: #111; }}
h1 {{ font-size: 1.6rem; border-bottom: 2px solid #2d6a4f; padding-bottom: .4rem; }}
h2 {{ font-size: 1.1rem; margin-top: 1.4rem; }}
table {{ border-collapse: collapse; width: 100%; }}
th {{ text-align: left; width: 12rem; padding: .3rem .6rem .3rem 0; color: #444; vertical-align: top; }}
td {{ padding: .3rem 0; word-break: break-all; }}
.qr {{ float: right; margin-left: 1rem; text-align: center; font-size: .75rem; }}
.audit {{ font-size: .8rem; color: #444; word-break: break-all; }}
@media print {{ body {{ margin: 0; }} }}
</style></head>
<body>
<h1>{heading}</h1>
<div class="qr">{qr}<br>Scan to verify</div>
<table>{rows}</table>
{extra}
<p>Verify at <a href="{url}">{url}</a></p>
{audit}
</body></html>
"#,
        title = escape(&p.title),
        heading = escape(p.heading),
        qr = qr_svg(p.check_url),
        rows = p.rows.join("\n"),
        extra = p.extra,
        url = escape(p.check_url),
        audit = audit,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_is_escaped() {
        let page = render(&Page {
            title: "<t>".into(),
            heading: "A & B",
            rows: vec![row("k", "<script>alert(1)</script>"), row("q", "A's \"x\"")],
            extra: String::new(),
            check_url: "https://registry.example/x?a=1&b=\"2\"",
            audit: None,
        });
        assert!(!page.contains("<script>") && !page.contains("<t>"));
        assert!(page.contains("&lt;script&gt;"));
        assert!(page.contains("A&#39;s &quot;x&quot;"));
        assert!(page.contains("<h1>A &amp; B</h1>"));
        assert!(page.contains("a=1&amp;b=&quot;2&quot;"));
        assert!(page.contains("<svg"), "QR code missing");
    }
}
