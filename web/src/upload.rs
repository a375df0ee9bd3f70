//! Uploading an attachment for a message being written: `POST /api/upload` by XMLHttpRequest,
//! because fetch cannot report upload progress.

use protocol::{ErrorCode, ErrorInfo, Upload};
use wasm_bindgen::{closure::Closure, JsCast};
use web_sys::{ProgressEvent, XmlHttpRequest};

/// Sends `file`; `progress` hears how far it is (percent), `done` how it ended.
pub fn start(
    file: web_sys::File,
    progress: impl Fn(u32) + 'static,
    done: impl FnOnce(Result<Upload, ErrorInfo>) + 'static,
) {
    let failed = |message: &str| ErrorInfo::new(ErrorCode::ServerUnreachable, message);
    let Ok(xhr) = XmlHttpRequest::new() else {
        done(Err(failed("this browser cannot upload")));
        return;
    };
    let mime_type = if file.type_().is_empty() {
        "application/octet-stream".to_owned()
    } else {
        file.type_()
    };
    let url = format!(
        "{}?name={}&type={}",
        protocol::UPLOAD_PATH,
        String::from(js_sys::encode_uri_component(&file.name())),
        String::from(js_sys::encode_uri_component(&mime_type)),
    );
    if xhr.open("POST", &url).is_err() {
        done(Err(failed("the upload could not start")));
        return;
    }
    if let Ok(upload) = xhr.upload() {
        let on_progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |ev: ProgressEvent| {
            if ev.length_computable() && ev.total() > 0.0 {
                progress((100.0 * ev.loaded() / ev.total()) as u32);
            }
        });
        upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
        on_progress.forget();
    }
    let finished = xhr.clone();
    let mut done = Some(done);
    let on_end = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
        let Some(done) = done.take() else { return };
        let body = finished.response_text().ok().flatten().unwrap_or_default();
        let status = finished.status().unwrap_or(0);
        let result = if status == 200 {
            serde_json::from_str::<Upload>(&body).map_err(|_| failed("unexpected answer"))
        } else if status == 0 {
            Err(failed("the upload broke off"))
        } else {
            Err(serde_json::from_str::<ErrorInfo>(&body)
                .unwrap_or_else(|_| failed(&format!("the relay answered {status}"))))
        };
        done(result);
    });
    xhr.set_onloadend(Some(on_end.as_ref().unchecked_ref()));
    on_end.forget();
    if xhr.send_with_opt_blob(Some(&file)).is_err() {
        // `loadend` still fires and reports the failure.
    }
}
