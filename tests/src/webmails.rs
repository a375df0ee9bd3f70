//! The two webmails the browser benchmarks drive side by side, this one and Roundcube: where
//! each has its login form, its rows and its reader.

/// A webmail, as a benchmark drives its page.
#[derive(Clone, Copy, PartialEq)]
pub enum Webmail {
    Ours,
    Roundcube,
}

impl Webmail {
    pub fn name(self) -> &'static str {
        match self {
            Webmail::Ours => "ours",
            Webmail::Roundcube => "Roundcube",
        }
    }

    /// The login form's user field, password field and submit button.
    pub fn login_fields(self) -> [&'static str; 3] {
        match self {
            Webmail::Ours => [
                "input[name=email]",
                "input[name=password]",
                "button[type=submit]",
            ],
            Webmail::Roundcube => ["#rcmloginuser", "#rcmloginpwd", "#rcmloginsubmit"],
        }
    }

    /// JavaScript: the login form can be used. Ours shows once nobody is signed in (the app,
    /// where it ran, has given way to the page) and the relay said what it offers.
    pub fn login_form_shows(self) -> &'static str {
        match self {
            Webmail::Ours => {
                "document.getElementById('login-form')?.hidden === false \
                 && !document.documentElement.classList.contains('signed-in')"
            }
            Webmail::Roundcube => "!!document.querySelector('#rcmloginuser')",
        }
    }

    /// JavaScript: the message list shows a row with `subject`.
    pub fn rows_show(self, subject: &str) -> String {
        let rows = match self {
            Webmail::Ours => ".rows .row",
            Webmail::Roundcube => "#messagelist tbody tr",
        };
        format!("[...document.querySelectorAll('{rows}')].some(r => r.textContent.includes('{subject}'))")
    }

    /// JavaScript: opens the row with `subject`.
    pub fn click_row(self, subject: &str) -> String {
        match self {
            Webmail::Ours => format!("[...document.querySelectorAll('.rows .row')].find(r => r.textContent.includes('{subject}')).querySelector('button.open').click()"),
            Webmail::Roundcube => format!("[...document.querySelectorAll('#messagelist tbody tr')].find(r => r.textContent.includes('{subject}')).dispatchEvent(new MouseEvent('mousedown', {{bubbles: true}})), [...document.querySelectorAll('#messagelist tbody tr')].find(r => r.textContent.includes('{subject}')).dispatchEvent(new MouseEvent('mouseup', {{bubbles: true}}))"),
        }
    }

    /// JavaScript: the reader shows the message with `subject`.
    pub fn message_shows(self, subject: &str) -> String {
        match self {
            Webmail::Ours => format!("[...document.querySelectorAll('.message-pane h1')].some(h => h.textContent.includes('{subject}'))"),
            Webmail::Roundcube => format!("(() => {{ const f = document.querySelector('#messagecontframe'); return !!(f && f.contentDocument && f.contentDocument.body && f.contentDocument.body.textContent.includes('{subject}')); }})()"),
        }
    }

    /// JavaScript: switches to the folder `name` (IMAP's name).
    pub fn click_folder(self, name: &str) -> String {
        match self {
            Webmail::Ours => format!("[...document.querySelectorAll('.folders button')].find(b => b.textContent.trim().startsWith('{}')).click()", if name == "INBOX" { "Inbox" } else { name }),
            Webmail::Roundcube => format!("document.querySelector('#mailboxlist a[rel=\"{name}\"]').click()"),
        }
    }

    /// JavaScript: whether the request for the URL `u` (a `URL`) brought the app rather than
    /// mail: our relay's API and socket, Roundcube's requests from its page (`_remote=1`) are
    /// mail.
    pub fn is_app_file(self) -> &'static str {
        match self {
            Webmail::Ours => "!u.pathname.startsWith('/api/') && u.pathname !== '/ws'",
            Webmail::Roundcube => "u.searchParams.get('_remote') !== '1'",
        }
    }
}
