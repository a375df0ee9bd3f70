// The login page (index.html's form), without the app: a first visit costs the page, not the
// app's wasm. The app is fetched ahead as soon as someone goes into the form, and started once
// they are signed in (window.webmailApp, the loader Trunk.toml puts in the page); it hands the
// session over in window.webmailSession so that the app need not ask for it again, and the
// socket, opened meanwhile, in window.webmailSocket. Where someone is signed in on this device
// the loader starts the app at once and this page hides.
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
    remove(key) {
      try {
        localStorage.removeItem(key);
      } catch (_) {
        // No storage (private mode): nothing was kept.
      }
    },
  };

  // A sign-out the relay did not hear of (it could not be reached then): tell it now, and
  // before signing in, so that its answer cannot end the new session.
  const pendingSignOut = storage.get("sign-out-pending")
    ? fetch("/api/logout", { method: "POST" })
      .then((response) => response.ok && storage.remove("sign-out-pending"))
      .catch(() => {})
    : Promise.resolve();
  if (root.classList.contains("signed-in")) {
    return;
  }

  (window.webmailOffer ?? fetch("/api/server"))
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

  // Whoever goes into the form (a tap into a field, a password manager filling it in) is about
  // to sign in: the app comes while they type or pick.
  const fetchApp = () => window.webmailApp?.fetch().catch(() => {});
  form.addEventListener("focusin", fetchApp, { once: true });
  form.addEventListener("input", fetchApp, { once: true });

  const alert = form.querySelector("[role=alert]");
  const texts = () => TEXTS[root.lang === "de" ? "de" : "en"];
  // Signed in, the app not started yet (it could not be fetched): a second try starts it
  // without opening another session.
  let session = null;
  form.elements.email.addEventListener("input", () => {
    session = null;
  });
  let busy = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy) {
      return;
    }
    busy = true;
    form.classList.add("signing-in");
    alert.textContent = "";
    // The app comes while the relay checks the password (a browser's autofill types nothing).
    window.webmailApp.fetch().catch(() => {});
    try {
      session ??= await signIn();
      storage.remove("sign-out-pending");
      window.webmailSession = session;
      // The socket opens while the app may still be coming (src/socket.rs takes it).
      window.webmailSocket?.close();
      window.webmailSocket = window.webmailOpenSocket?.();
      try {
        await window.webmailApp.start();
      } catch (_) {
        throw { code: "server_unreachable" };
      }
      form.elements.password.value = "";
      root.classList.add("signed-in");
    } catch (error) {
      // A socket the app did not take would keep the session alive.
      window.webmailSocket?.close();
      delete window.webmailSocket;
      form.elements.password.value = "";
      alert.textContent = texts()[error.code] || error.message;
    } finally {
      busy = false;
      form.classList.remove("signing-in");
    }
  });

  // The session's description (JSON text), or throws the relay's error.
  async function signIn() {
    await pendingSignOut;
    const body = JSON.stringify({
      email: form.elements.email.value,
      password: form.elements.password.value,
      kind: form.elements.kind.value || "imap",
    });
    let response;
    let text;
    try {
      response = await fetch("/api/login", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body,
      });
      text = await response.text();
    } catch (_) {
      throw { code: "server_unreachable" };
    }
    if (response.ok) {
      return text;
    }
    let error = null;
    try {
      error = JSON.parse(text);
    } catch (_) {
      // Not the relay's answer (a proxy's error page, say).
    }
    throw error?.code ? error : { code: "internal", message: `HTTP ${response.status}` };
  }
})();
