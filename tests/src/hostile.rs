//! A corpus of hostile mail: messages built to break parsers, sanitizers and memory budgets, from
//! the bug classes published against webmails and mail parsers (deep MIME nesting, part and
//! header floods, broken boundaries and encodings, bytes that are not text, dates out of range,
//! threads deeper than a parser's recursion limit, image floods). Every one is something a
//! stranger can send; none may take a folder down.

use base64::Engine;

/// One hostile message. Its Subject starts with [`SUBJECT_PREFIX`] where the message has a
/// readable Subject at all.
pub struct Hostile {
    pub name: &'static str,
    pub raw: Vec<u8>,
}

pub const SUBJECT_PREFIX: &str = "Hostile:";

const FROM: &str = "From: Mallory <mallory@example.net>\r\nTo: victim@example.org\r\n";

fn headers(name: &str) -> String {
    format!(
        "{FROM}Subject: {SUBJECT_PREFIX} {name}\r\nDate: Tue, 21 Nov 2023 10:00:00 +0000\r\n\
Message-ID: <{}@hostile.example>\r\nMIME-Version: 1.0\r\n",
        name.replace(' ', "-")
    )
}

fn hostile(name: &'static str, rest: impl AsRef<[u8]>) -> Hostile {
    let mut raw = headers(name).into_bytes();
    raw.extend_from_slice(rest.as_ref());
    Hostile { name, raw }
}

/// Multipart inside multipart, `depth` levels, a text part at the bottom.
fn nested_multipart(depth: usize) -> String {
    let mut body = String::from("Content-Type: text/plain\r\n\r\nat the bottom\r\n");
    for level in 0..depth {
        body = format!(
            "Content-Type: multipart/mixed; boundary=\"l{level}\"\r\n\r\n--l{level}\r\n{body}--l{level}--\r\n"
        );
    }
    body
}

/// A message forwarded inside itself, `depth` levels.
fn nested_rfc822(depth: usize) -> String {
    let mut body = String::from("Content-Type: text/plain\r\n\r\ninnermost\r\n");
    for level in 0..depth {
        body = format!(
            "Content-Type: message/rfc822\r\n\r\nFrom: level{level}@example.net\r\nSubject: level {level}\r\n{body}"
        );
    }
    body
}

fn base64_lines(bytes: &[u8]) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    encoded
        .as_bytes()
        .chunks(76)
        .map(|l| std::str::from_utf8(l).expect("base64 is ASCII"))
        .collect::<Vec<_>>()
        .join("\r\n")
}

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
    0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// An HTML mail showing `count` inline images by `cid:`, and as many parts it never shows.
pub fn inline_images(count: usize) -> Vec<u8> {
    let mut html = String::from("<p>Many pictures:</p>");
    for i in 0..count {
        html.push_str(&format!(
            "<img src=\"cid:img{i}@hostile.example\" alt=\"{i}\">"
        ));
    }
    let mut body = format!(
        "Content-Type: multipart/related; boundary=\"rel\"\r\n\r\n--rel\r\n\
Content-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n"
    );
    let png = base64_lines(PNG);
    for i in 0..count * 2 {
        // The second half is never referenced by the HTML.
        body.push_str(&format!(
            "--rel\r\nContent-Type: image/png\r\nContent-ID: <img{i}@hostile.example>\r\n\
Content-Transfer-Encoding: base64\r\n\r\n{png}\r\n"
        ));
    }
    body.push_str("--rel--\r\n");
    body.into_bytes()
}

/// A plain message of about `bytes`, in short lines (the shape that costs a line-by-line
/// reader the most).
pub fn big(subject: &str, bytes: usize) -> Vec<u8> {
    let line = "A short line of a very long message.\r\n";
    format!(
        "{FROM}Subject: {subject}\r\nDate: Tue, 21 Nov 2023 10:00:00 +0000\r\n\
Content-Type: text/plain\r\n\r\n{}",
        line.repeat(bytes / line.len())
    )
    .into_bytes()
}

/// The corpus, in a fixed order.
pub fn corpus() -> Vec<Hostile> {
    let mut all = vec![
        hostile("deep multipart 12", nested_multipart(12)),
        hostile("deep multipart 100", nested_multipart(100)),
        hostile("deep multipart 2000", nested_multipart(2000)),
        hostile("deep rfc822 12", nested_rfc822(12)),
        hostile("deep rfc822 60", nested_rfc822(60)),
        hostile("ten thousand parts", {
            let mut body =
                String::from("Content-Type: multipart/mixed; boundary=\"p\"\r\n\r\n");
            for i in 0..10_000 {
                body.push_str(&format!("--p\r\nContent-Type: text/plain\r\n\r\npart {i}\r\n"));
            }
            body + "--p--\r\n"
        }),
        hostile(
            "ten thousand attachments",
            {
                let mut body =
                    String::from("Content-Type: multipart/mixed; boundary=\"a\"\r\n\r\n--a\r\nContent-Type: text/plain\r\n\r\nsee attachments\r\n");
                for i in 0..10_000 {
                    body.push_str(&format!("--a\r\nContent-Type: application/octet-stream; name=\"f{i}.bin\"\r\nContent-Disposition: attachment; filename=\"f{i}.bin\"\r\n\r\nx\r\n"));
                }
                body + "--a--\r\n"
            },
        ),
        Hostile {
            name: "one megabyte header line",
            raw: format!(
                "{FROM}Subject: {SUBJECT_PREFIX} one megabyte header line {}\r\nDate: Tue, 21 Nov 2023 10:00:00 +0000\r\n\r\nbody\r\n",
                "A".repeat(1 << 20)
            )
            .into_bytes(),
        },
        hostile("ten thousand header lines", {
            let mut headers = String::new();
            for i in 0..10_000 {
                headers.push_str(&format!("X-Flood-{i}: {i}\r\n"));
            }
            headers + "Content-Type: text/plain\r\n\r\nbody after the flood\r\n"
        }),
        hostile(
            "missing final boundary",
            "Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n--m\r\nContent-Type: text/plain\r\n\r\nno end in sight\r\n",
        ),
        hostile(
            "boundary never used",
            "Content-Type: multipart/mixed; boundary=\"declared\"\r\n\r\n--other\r\nContent-Type: text/plain\r\n\r\nwrong boundary\r\n--other--\r\n",
        ),
        hostile(
            "empty boundary",
            "Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\nContent-Type: text/plain\r\n\r\nempty\r\n----\r\n",
        ),
        hostile(
            "multipart without boundary",
            "Content-Type: multipart/mixed\r\n\r\njust text\r\n",
        ),
        hostile(
            "boundary of 5000 characters",
            format!(
                "Content-Type: multipart/mixed; boundary=\"{b}\"\r\n\r\n--{b}\r\nContent-Type: text/plain\r\n\r\nlong boundary\r\n--{b}--\r\n",
                b = "b".repeat(5000)
            ),
        ),
        Hostile {
            name: "NUL bytes in headers",
            raw: [
                FROM.as_bytes(),
                format!("Subject: {SUBJECT_PREFIX} NUL bytes in headers \0\0\0\r\n").as_bytes(),
                b"X-Null: a\0b\r\nContent-Type: text/plain\0; charset=utf-8\r\n\r\nbody\0with\0nul\r\n",
            ]
            .concat(),
        },
        Hostile {
            name: "8-bit bytes in headers",
            raw: [
                FROM.as_bytes(),
                format!("Subject: {SUBJECT_PREFIX} 8-bit bytes in headers Gr\u{fc}\u{df}e ").as_bytes(),
                b"\xe4\xf6\xfc \xff\xfe\r\nFrom: J\xfcrgen <j@example.net>\r\n\r\nlatin-1 \xe4\r\n",
            ]
            .concat(),
        },
        hostile(
            "unknown charset",
            "Content-Type: text/plain; charset=x-klingon-9\r\n\r\nQapla'\r\n",
        ),
        hostile(
            "unknown charset in encoded words",
            "Content-Type: text/plain\r\nX-Note: =?x-unknown?Q?abc?= =?utf-8?X?nope?= =?utf-8?B?####?=\r\n\r\nbody\r\n",
        ),
        hostile(
            "unknown transfer encoding",
            "Content-Type: text/plain\r\nContent-Transfer-Encoding: x-rot13-deluxe\r\n\r\nuryyb\r\n",
        ),
        hostile(
            "broken base64",
            "Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\nSGVsbG8*#!!===\r\nnot base64 at all ~~~\r\n=\r\n",
        ),
        hostile(
            "broken quoted-printable",
            "Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nbad =ZZ escape =\r\n=4\r\ntrailing =",
        ),
        hostile(
            "base64 html with invalid UTF-8",
            format!(
                "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n",
                base64_lines(b"<p>\xff\xfe\xc3\x28 broken \xed\xa0\x80</p>")
            ),
        ),
        hostile("references chain of 50", {
            let refs: Vec<String> = (0..50).map(|i| format!("<ref{i}@hostile.example>")).collect();
            format!(
                "In-Reply-To: <ref49@hostile.example>\r\nReferences: {}\r\nContent-Type: text/plain\r\n\r\nlong thread\r\n",
                refs.join("\r\n ")
            )
        }),
        Hostile {
            name: "date in year 99999",
            raw: format!("{FROM}Subject: {SUBJECT_PREFIX} date in year 99999\r\nDate: Fri, 31 Dec 99999 23:59:59 +9999\r\n\r\nfar future\r\n").into_bytes(),
        },
        Hostile {
            name: "date before the epoch",
            raw: format!("{FROM}Subject: {SUBJECT_PREFIX} date before the epoch\r\nDate: Mon, 1 Jan 0001 00:00:00 -2400\r\n\r\nlong ago\r\n").into_bytes(),
        },
        Hostile {
            name: "garbage date",
            raw: format!("{FROM}Subject: {SUBJECT_PREFIX} garbage date\r\nDate: yesterday-ish, when the moon was full\r\n\r\nwhen?\r\n").into_bytes(),
        },
        hostile("three hundred inline images", inline_images(300)),
        hostile(
            "hostile html",
            "Content-Type: text/html\r\n\r\n<script>alert(1)</script><img src=x onerror=alert(2)>\
<a href=\"javascript:alert(3)\">click</a><svg onload=alert(4)><script>alert(5)</script></svg>\
<iframe src=\"https://evil.example\"></iframe><form action=\"https://evil.example\"><input name=p></form>\
<div style=\"background:url(https://track.example/a)\">css</div><IMG SRC=\"HTTPS://track.example/b\">\
<img srcset=\"https://track.example/c 1x\"><base href=\"https://evil.example/\"><meta http-equiv=refresh content=0>\r\n",
        ),
        hostile("ten thousand nested divs", {
            format!(
                "Content-Type: text/html\r\n\r\n{}deep{}\r\n",
                "<div>".repeat(10_000),
                "</div>".repeat(10_000)
            )
        }),
        // Nested lists cost an HTML parser more per tag than divs: 50,000 of them took the
        // sanitizer minutes before it bounded nesting.
        hostile("fifty thousand nested lists", {
            format!("Content-Type: text/html\r\n\r\n{}\r\n", "<ul><li>x".repeat(50_000))
        }),
        hostile(
            "encoded-word flood",
            format!(
                "Content-Type: text/plain\r\nX-Flood: {}\r\n\r\nbody\r\n",
                "=?utf-8?B?w6Q=?= ".repeat(20_000)
            ),
        ),
        hostile(
            "broken RFC 2231 filename",
            "Content-Type: multipart/mixed; boundary=\"f\"\r\n\r\n--f\r\nContent-Type: text/plain\r\n\r\nsee file\r\n\
--f\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename*0*=utf-8''%E4%; filename*5=\"x\"; filename*=bogus''%ZZ\r\n\r\n%PDF\r\n--f--\r\n",
        ),
        hostile(
            "filename of 10000 characters",
            format!(
                "Content-Type: multipart/mixed; boundary=\"f\"\r\n\r\n--f\r\nContent-Type: text/plain\r\n\r\nsee file\r\n\
--f\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"{}.exe\"\r\n\r\nMZ\r\n--f--\r\n",
                "../".repeat(3333)
            ),
        ),
        hostile(
            "a thousand content-type parameters",
            format!(
                "Content-Type: text/plain; {}charset=utf-8\r\n\r\nparameters\r\n",
                (0..1000).map(|i| format!("p{i}=v{i}; ")).collect::<String>()
            ),
        ),
        Hostile {
            name: "headers only, no body",
            raw: format!("{FROM}Subject: {SUBJECT_PREFIX} headers only, no body\r\n").into_bytes(),
        },
        Hostile {
            name: "bare LF line ends",
            raw: format!("{}Content-Type: text/plain\n\nunix\nline\nends\n", headers("bare LF line ends")).replace("\r\n", "\n").into_bytes(),
        },
        Hostile {
            name: "bare CR line ends",
            raw: format!("{}Content-Type: text/plain\r\rold\rmac\r", headers("bare CR line ends")).replace("\r\n", "\r").into_bytes(),
        },
        hostile(
            "two megabyte line",
            format!("Content-Type: text/plain\r\n\r\n{}\r\n", "x".repeat(2 << 20)),
        ),
        hostile(
            "alternative without parts",
            "Content-Type: multipart/alternative; boundary=\"e\"\r\n\r\n--e--\r\n",
        ),
        hostile(
            "empty forwarded message",
            "Content-Type: multipart/mixed; boundary=\"e\"\r\n\r\n--e\r\nContent-Type: message/rfc822\r\n\r\n\r\n--e--\r\n",
        ),
        hostile(
            "message/partial",
            "Content-Type: message/partial; id=\"x@y\"; number=2; total=3\r\n\r\npiece two\r\n",
        ),
        hostile(
            "html attachment with script",
            "Content-Type: multipart/mixed; boundary=\"h\"\r\n\r\n--h\r\nContent-Type: text/plain\r\n\r\nsee page\r\n\
--h\r\nContent-Type: text/html; name=\"page.html\"\r\nContent-Disposition: attachment; filename=\"page.html\"\r\n\r\n\
<script>document.cookie</script>\r\n--h--\r\n",
        ),
        hostile(
            "UTF-7 html",
            "Content-Type: text/html; charset=utf-7\r\n\r\n+ADw-script+AD4-alert(1)+ADw-/script+AD4-\r\n",
        ),
        Hostile {
            name: "body of NUL bytes",
            raw: [
                headers("body of NUL bytes").as_bytes(),
                b"Content-Type: text/plain\r\n\r\n",
                &[0u8; 100_000],
            ]
            .concat(),
        },
        hostile(
            "whitespace-only folded headers",
            "X-Folded: a\r\n \r\n\t\r\n  \r\nContent-Type: text/plain\r\n\r\nfolded\r\n",
        ),
        Hostile {
            name: "garbage and thousands of addresses",
            raw: format!(
                "From: <<<@@@>>> \"\r\nTo: {}\r\nCc: ,,,;;;<>\r\nSubject: {SUBJECT_PREFIX} garbage and thousands of addresses\r\n\r\nwho?\r\n",
                (0..5000).map(|i| format!("u{i}@example.org")).collect::<Vec<_>>().join(", ")
            )
            .into_bytes(),
        },
        hostile(
            "message-id of 10000 characters",
            format!(
                "References: <{}@x>\r\nContent-Type: text/plain\r\n\r\nlong id\r\n",
                "i".repeat(10_000)
            ),
        ),
        hostile(
            "deep multipart with html at the bottom",
            nested_multipart(12).replace(
                "Content-Type: text/plain\r\n\r\nat the bottom",
                "Content-Type: text/html\r\n\r\n<p>html at the bottom</p><script>alert(1)</script>",
            ),
        ),
    ];
    all.extend(deep_thread(12));
    all
}

/// A conversation that branches at every level: each message of a chain of `depth` gets two
/// answers, the next in the chain and a side reply, so THREAD=REFERENCES nests `depth` levels
/// deep (a chain without branches would come back flat).
fn deep_thread(depth: usize) -> Vec<Hostile> {
    const NAMES: [&str; 12] = [
        "deep thread 1",
        "deep thread 2",
        "deep thread 3",
        "deep thread 4",
        "deep thread 5",
        "deep thread 6",
        "deep thread 7",
        "deep thread 8",
        "deep thread 9",
        "deep thread 10",
        "deep thread 11",
        "deep thread 12",
    ];
    let depth = depth.min(NAMES.len());
    let message = |name: &'static str, id: String, parents: &[String], hour: usize| {
        let threading = match parents.last() {
            Some(parent) => format!(
                "In-Reply-To: {parent}\r\nReferences: {}\r\n",
                parents.join(" ")
            ),
            None => String::new(),
        };
        Hostile {
            name,
            raw: format!(
                "{FROM}Subject: {SUBJECT_PREFIX} {name}\r\nDate: Tue, 21 Nov 2023 {hour:02}:00:00 +0000\r\n\
Message-ID: {id}\r\n{threading}\r\n{name}\r\n"
            )
            .into_bytes(),
        }
    };
    let chain: Vec<String> = (0..depth)
        .map(|i| format!("<t{i}@hostile.example>"))
        .collect();
    let mut all = Vec::new();
    for i in 0..depth {
        all.push(message(NAMES[i], chain[i].clone(), &chain[..i], i));
        if i > 0 {
            all.push(message(
                "deep thread side reply",
                format!("<side{i}@hostile.example>"),
                &chain[..i],
                i,
            ));
        }
    }
    all
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_corpus_is_big_and_its_subjects_are_unique() {
        let corpus = super::corpus();
        let mut names: Vec<&str> = corpus
            .iter()
            .map(|h| h.name)
            .filter(|n| *n != "deep thread side reply")
            .collect();
        let before = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), before, "unique names");
        assert!(corpus.len() >= 40);
        eprintln!("{} messages", corpus.len());
    }
}
