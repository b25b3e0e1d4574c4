// dl.js: the end-user download site (NRA 4-3): log in with the certificate's e-mail and
// download password, then download the certificates that login grants.
"use strict";

(function () {
  const T = {
    ja: {
      title: "証明書ダウンロード",
      login_title: "ログイン",
      login_hint: "管理者から通知された ID（証明書メールアドレス）とパスワードを入力してください。",
      login_id: "ID（メールアドレス）",
      password: "パスワード",
      login: "ログイン",
      logout: "ログアウト",
      certs_title: "ダウンロードできる証明書",
      install_hint: "証明書をインストールするときのパスワードは、ログインに使ったパスワードと同じです。",
      download: "ダウンロード",
      download_p12: "PKCS#12（.p12）でダウンロード",
      download_profile: "構成プロファイルでダウンロード（iPhone/iPad）",
      restricted: "この証明書にはインストール制限があります。ブラウザからはダウンロードできません。インストールする端末で shomei-enroll を実行してください。",
      unavailable: "この証明書はダウンロードできません。",
      none: "ダウンロードできる証明書はありません。",
      expires: "有効期限",
      required: "ID とパスワードを入力してください。",
      not_found: "このダウンロードサイトは見つかりません。URL を確認してください。",
      network: "サーバーに接続できません。しばらくしてから再度お試しください。",
      locked: "ログインの失敗が続いたため、しばらくログインできません。",
      retry_after: "再試行まで（秒）",
      loading: "読み込み中…",
      devices: { "01": "WindowsPC", "11": "iOS(iPhone)", "12": "iOS(iPad)", "20": "Android", "99": "その他", "": "-" },
      statuses: { issued: "証明書発行済", downloaded: "証明書ダウンロード済", revoke_scheduled: "証明書失効予定", revoked: "証明書失効済", issuing: "証明書発行中", failed: "証明書発行失敗" },
    },
    en: {
      title: "Certificate download",
      login_title: "Log in",
      login_hint: "Enter the ID (the certificate's e-mail address) and the password your administrator gave you.",
      login_id: "ID (e-mail address)",
      password: "Password",
      login: "Log in",
      logout: "Log out",
      certs_title: "Certificates you can download",
      install_hint: "The password asked for when you install a certificate is the one you logged in with.",
      download: "Download",
      download_p12: "Download as PKCS#12 (.p12)",
      download_profile: "Download as a configuration profile (iPhone/iPad)",
      restricted: "This certificate has an install restriction and cannot be downloaded in a browser. Run shomei-enroll on the device that installs it.",
      unavailable: "This certificate cannot be downloaded.",
      none: "There is no certificate to download.",
      expires: "Expires",
      required: "Enter the ID and the password.",
      not_found: "This download site does not exist. Check the URL.",
      network: "Cannot reach the server. Please try again shortly.",
      locked: "Too many failed logins. Please try again later.",
      retry_after: "Seconds until you can retry",
      loading: "Loading…",
      devices: { "01": "Windows PC", "11": "iOS (iPhone)", "12": "iOS (iPad)", "20": "Android", "99": "Other", "": "-" },
      statuses: { issued: "Issued", downloaded: "Downloaded", revoke_scheduled: "Revocation scheduled", revoked: "Revoked", issuing: "Issuing", failed: "Failed" },
    },
  };

  const m = location.pathname.match(/^\/dl\/([a-z0-9][a-z0-9-]{0,62})\/$/);
  const tenant = m ? m[1] : "";
  const api = "/api/dl/" + tenant + "/";
  let lang = localStorage.getItem("shomei-dl-lang") || ((navigator.language || "ja").startsWith("en") ? "en" : "ja");
  let items = null;
  const $ = (id) => document.getElementById(id);
  const t = (k) => T[lang][k];

  function applyLang() {
    document.documentElement.lang = lang;
    document.title = t("title");
    document.querySelectorAll("[data-t]").forEach((el) => { el.textContent = t(el.dataset.t); });
    $("lang-ja").setAttribute("aria-pressed", String(lang === "ja"));
    $("lang-en").setAttribute("aria-pressed", String(lang === "en"));
    if (items) renderList();
  }

  function status(text, isError) {
    const s = $("status");
    s.textContent = text || "";
    s.className = isError ? "status error" : "status";
  }

  async function call(method, path, body) {
    const opts = { method, credentials: "same-origin", headers: { "Accept-Language": lang } };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const r = await fetch(api + path, opts);
    let doc = null;
    try { doc = await r.json(); } catch (e) { doc = null; }
    return { status: r.status, doc, retry: r.headers.get("Retry-After") };
  }

  function errorText(r) {
    if (r.status === 404) return t("not_found");
    if (r.status === 429) return t("locked") + (r.retry ? " (" + t("retry_after") + ": " + r.retry + ")" : "");
    return (r.doc && r.doc.error && r.doc.error.message) || t("network");
  }

  function show(which) {
    $("login").hidden = which !== "login";
    $("certs").hidden = which !== "certs";
  }

  function link(text, href, cls) {
    const a = document.createElement("a");
    a.textContent = text;
    a.href = href;
    a.className = cls;
    a.setAttribute("download", "");
    a.addEventListener("click", () => setTimeout(refresh, 1500));
    return a;
  }

  function renderItem(it) {
    const li = document.createElement("li");
    li.dataset.id = it.id;
    const cn = document.createElement("div");
    cn.className = "cn";
    cn.textContent = it.cn;
    const meta = document.createElement("div");
    meta.className = "meta";
    const badge = document.createElement("span");
    badge.className = "badge " + it.status;
    badge.textContent = t("statuses")[it.status] || it.status;
    meta.append((t("devices")[it.device] || it.device) + " · " + t("expires") + " " + (it.expires_at || "-") + " ", badge);
    li.append(cn, meta);
    const base = api + "certificate?id=" + encodeURIComponent(it.id);
    if (it.restricted) {
      const n = document.createElement("p");
      n.className = "note";
      n.textContent = t("restricted");
      li.append(n);
    } else if (!it.downloadable) {
      const n = document.createElement("p");
      n.className = "note";
      n.textContent = t("unavailable");
      li.append(n);
    } else if (it.default_format === "mobileconfig") {
      li.append(link(t("download_profile"), base + "&format=mobileconfig", "primary"),
        link(t("download_p12"), base + "&format=p12", "secondary"));
    } else {
      li.append(link(t("download"), base + "&format=p12", "primary"));
    }
    return li;
  }

  function renderList() {
    const ul = $("cert-list");
    ul.replaceChildren(...items.map(renderItem));
    if (items.length === 0) {
      const li = document.createElement("li");
      li.textContent = t("none");
      ul.append(li);
    }
  }

  async function refresh() {
    let r;
    try { r = await call("GET", "certificates"); } catch (e) { status(t("network"), true); return; }
    if (r.status === 200) {
      items = r.doc.items || [];
      status("");
      renderList();
      show("certs");
    } else if (r.status === 401) {
      items = null;
      status("");
      show("login");
    } else {
      items = null;
      show("");
      status(errorText(r), true);
    }
  }

  async function login(ev) {
    ev.preventDefault();
    const id = $("login-id").value.trim(), pw = $("login-password").value;
    const err = $("login-error");
    err.hidden = true;
    if (!id || !pw) {
      err.textContent = t("required");
      err.hidden = false;
      return;
    }
    $("login-submit").disabled = true;
    let r;
    try { r = await call("POST", "login", { login_id: id, password: pw }); } catch (e) { r = { status: 0 }; }
    $("login-submit").disabled = false;
    if (r.status === 200) {
      $("login-password").value = "";
      items = r.doc.items || [];
      renderList();
      show("certs");
      return;
    }
    if (r.status === 403 || r.status === 404) {
      show("");
      status(errorText(r), true);
      return;
    }
    err.textContent = r.status === 0 ? t("network") : errorText(r);
    err.hidden = false;
  }

  async function logout() {
    try { await call("POST", "logout", {}); } catch (e) { /* the cookie ends with the session anyway */ }
    items = null;
    show("login");
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("lang-ja").addEventListener("click", () => { lang = "ja"; localStorage.setItem("shomei-dl-lang", lang); applyLang(); });
    $("lang-en").addEventListener("click", () => { lang = "en"; localStorage.setItem("shomei-dl-lang", lang); applyLang(); });
    $("login-form").addEventListener("submit", login);
    $("logout").addEventListener("click", logout);
    applyLang();
    if (!tenant) {
      status(t("not_found"), true);
      return;
    }
    status(t("loading"));
    refresh();
  });
})();
