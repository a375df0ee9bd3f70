// What the app keeps on this device, for the Rust side (src/offline.rs, src/pwa.rs):
// - window.webmailDevice: mail kept for reading offline, in IndexedDB. One database per
//   account, so that signing out deletes the account's mail whole. Values are JSON text.
// - the install prompt, caught here because the browser may offer it before the app has
//   loaded.
// - before the page is painted: its language, its theme, and whether someone is signed in
//   here. The page's login form (index.html, login.js) shows in that language, and not where
//   someone is signed in: there the loader (Trunk.toml) starts the app at once. The app sets
//   the language and the theme again as it starts (src/views/mod.rs, src/theme.rs).
// A classic script, loaded before the app's module: both are there when the app starts.
"use strict";

(() => {
  const root = document.documentElement;
  let saved = {};
  try {
    saved = { lang: localStorage.getItem("lang"), theme: localStorage.getItem("theme"), signedIn: localStorage.getItem("signed-in") };
  } catch (_) {
    // No storage (private mode): the defaults.
  }
  const lang = saved.lang || navigator.language || "";
  root.lang = lang.toLowerCase().startsWith("de") ? "de" : "en";
  if (saved.theme === "light" || saved.theme === "dark") {
    root.dataset.theme = saved.theme;
  }
  if (saved.signedIn) {
    root.classList.add("signed-in");
  }
})();

window.webmailDevice = (() => {
  const STORE = "kept";
  const opened = new Map();

  function database(name) {
    let ready = opened.get(name);
    if (!ready) {
      ready = new Promise((resolve, reject) => {
        const request = indexedDB.open(name, 1);
        request.onupgradeneeded = () => request.result.createObjectStore(STORE);
        request.onsuccess = () => {
          const db = request.result;
          // Another tab signing out deletes this database: let it.
          db.onversionchange = () => {
            db.close();
            opened.delete(name);
          };
          resolve(db);
        };
        request.onerror = () => reject(request.error);
      });
      ready.catch(() => opened.delete(name));
      opened.set(name, ready);
    }
    return ready;
  }

  // Resolves once the transaction is on disk (its `complete`), not when the request is queued.
  function finished(transaction) {
    return new Promise((resolve, reject) => {
      transaction.oncomplete = () => resolve();
      transaction.onerror = transaction.onabort = () => reject(transaction.error);
    });
  }

  let installPrompt = null;
  window.addEventListener("beforeinstallprompt", (event) => {
    event.preventDefault();
    installPrompt = event;
    window.dispatchEvent(new Event("webmail-installable"));
  });
  window.addEventListener("appinstalled", () => {
    installPrompt = null;
    window.dispatchEvent(new Event("webmail-installable"));
  });

  return {
    async get(name, key) {
      const transaction = (await database(name)).transaction(STORE);
      const request = transaction.objectStore(STORE).get(key);
      await finished(transaction);
      return request.result === undefined ? null : request.result;
    },
    async put(name, key, value) {
      const transaction = (await database(name)).transaction(STORE, "readwrite");
      transaction.objectStore(STORE).put(value, key);
      await finished(transaction);
    },
    async remove(name, key) {
      const transaction = (await database(name)).transaction(STORE, "readwrite");
      transaction.objectStore(STORE).delete(key);
      await finished(transaction);
    },
    async wipe(name) {
      const ready = opened.get(name);
      opened.delete(name);
      if (ready) {
        try {
          (await ready).close();
        } catch (_) {
          // It never opened: nothing to close.
        }
      }
      await new Promise((resolve, reject) => {
        const request = indexedDB.deleteDatabase(name);
        request.onsuccess = () => resolve();
        request.onerror = () => reject(request.error);
      });
    },
    installable() {
      return installPrompt !== null;
    },
    // Shows the browser's install dialog; true if the user installed the app.
    async install() {
      const prompt = installPrompt;
      installPrompt = null;
      if (!prompt) {
        return false;
      }
      prompt.prompt();
      const choice = await prompt.userChoice;
      window.dispatchEvent(new Event("webmail-installable"));
      return choice.outcome === "accepted";
    },
  };
})();
