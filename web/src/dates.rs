//! Dates as people read them, in the app's language: the time for today, else the date.

use crate::i18n::Lang;

/// For list rows: `14:05` today, `3 Nov` this year, `3 Nov 2023` before.
pub fn short(seconds: i64) -> String {
    let lang = crate::i18n::current();
    let date = js_date(seconds);
    let today = js_sys::Date::new_0();
    let options = js_sys::Object::new();
    if date.to_date_string() == today.to_date_string() {
        set(&options, "hour", "2-digit");
        set(&options, "minute", "2-digit");
        return date
            .to_locale_time_string_with_options(lang.tag(), &options)
            .into();
    }
    set(&options, "day", "numeric");
    set(&options, "month", "short");
    if date.get_full_year() != today.get_full_year() {
        set(&options, "year", "numeric");
    }
    date.to_locale_date_string(lang.tag(), &options).into()
}

/// For the message view: the full date and time.
pub fn long(seconds: i64, lang: Lang) -> String {
    let options = js_sys::Object::new();
    set(&options, "dateStyle", "full");
    set(&options, "timeStyle", "short");
    js_date(seconds)
        .to_locale_string(lang.tag(), &options)
        .into()
}

fn js_date(seconds: i64) -> js_sys::Date {
    js_sys::Date::new(&((seconds as f64) * 1000.0).into())
}

fn set(options: &js_sys::Object, key: &str, value: &str) {
    let _ = js_sys::Reflect::set(options, &key.into(), &value.into());
}
