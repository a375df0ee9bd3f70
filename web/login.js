// The login page (index.html's form), without the app: a first visit costs the page, not the
// app's wasm. The app is fetched ahead as soon as someone starts typing, and started once they
// are signed in (window.webmailApp, the loader Trunk.toml puts in the page); it hands the
// session over in window.webmailSession so that the app need not ask for it again. Where
// someone is signed in on this device the loader starts the app at once and this page hides.
"use strict";

(() => {
  const root = document.documentElement;
  const form = document.getElementById("login-form");
  // The texts this script shows; the app says the same (src/i18n.rs, a test compares them).
  const TEXTS = {
    en: {
      auth_failed: "Wrong e-mail or password.",
      server_unreachable: "The mail server cannot be reached. Please try again later.",
      certificate_not_trusted: "The mail server's certificate is not trusted. Please tell your administrator.",
    },
    de: {
      auth_failed: "E-Mail-Adresse oder Passwort falsch.",
      server_unreachable: "Der Mailserver ist nicht erreichbar. Bitte später erneut versuchen.",
      certificate_not_trusted: "Dem Zertifikat des Mailservers wird nicht vertraut. Bitte wenden Sie sich an Ihren Administrator.",
    },
  };
  const storage = {
    get(key) {
      try {
        return localStorage.getItem(key);
      } catch (_) {
        return null;
      }
    },
    set(key, value) {
      try {
        localStorage.setItem(key, value);
      } catch (_) {
        // No storage (private mode): the app starts all the same, this once.
      }
    },
    remove(key) {
      try {
        localStorage.removeItem(key);
      } catch (_) {
        // As above.
      }
    },
  };

  // A sign-out the relay did not hear of (it could not be reached then): tell it now.
  if (storage.get("sign-out-pending")) {
    fetch("/api/logout", { method: "POST" })
      .then((response) => response.ok && storage.remove("sign-out-pending"))
      .catch(() => {});
  }
  if (root.classList.contains("signed-in")) {
    return;
  }

  fetch("/api/server")
    .then((response) => response.json())
    .then((info) => {
      const kinds = info.account_kinds || [];
      if (kinds.length > 0) {
        form.elements.kind.value = kinds[0];
      }
      form.querySelector(".kinds").hidden = kinds.length < 2;
    })
    .catch(() => {
      // The relay is away: the form all the same; signing in says so.
    })
    .finally(() => {
      form.hidden = false;
    });

  // Whoever starts typing is about to sign in: the app comes while they type.
  form.addEventListener("input", () => window.webmailApp?.fetch().catch(() => {}), { once: true });

  const alert = form.querySelector("[role=alert]");
  const texts = () => TEXTS[root.lang === "de" ? "de" : "en"];
  let busy = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy) {
      return;
    }
    busy = true;
    form.classList.add("busy");
    alert.textContent = "";
    const body = JSON.stringify({
      email: form.elements.email.value,
      password: form.elements.password.value,
      kind: form.elements.kind.value || "imap",
    });
    let error;
    try {
      const response = await fetch("/api/login", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body,
      });
      const text = await response.text();
      if (response.ok) {
        window.webmailSession = text;
        storage.set("signed-in", "1");
        form.elements.password.value = "";
        root.classList.add("signed-in");
        window.webmailApp.start().catch(() => {
          // The app could not be fetched: the form again, saying why.
          root.classList.remove("signed-in");
          alert.textContent = texts().server_unreachable;
        });
        return;
      }
      try {
        error = JSON.parse(text);
      } catch (_) {
        error = { code: "internal", message: `HTTP ${response.status}` };
      }
    } catch (_) {
      error = { code: "server_unreachable", message: "" };
    } finally {
      busy = false;
      form.classList.remove("busy");
    }
    form.elements.password.value = "";
    alert.textContent = texts()[error.code] || error.message;
  });
})();
