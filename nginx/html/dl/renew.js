// renew.js: renewal with the current certificate (/dl/<slug>/renew). The browser presents the
// certificate about to expire; the page asks for a new one, waits for its issue, downloads it
// once and shows its password once. The old certificate is revoked by the server after that.
"use strict";

(function () {
  const T = {
    ja: {
      title: "証明書の更新",
      current_title: "現在の証明書",
      cn: "証明書",
      email: "メールアドレス",
      device: "デバイス",
      expires: "有効期限",
      renew: "新しい証明書を発行する",
      download: "新しい証明書をダウンロードする",
      renewable: "この証明書を更新できます。新しい証明書（新しい鍵・シリアル番号・パスワード）を発行します。",
      issuing: "新しい証明書を発行しています…",
      ready: "新しい証明書の準備ができました。ダウンロードすると、これまでの証明書は失効します。パスワードは一度だけ表示されます。",
      failed: "新しい証明書の発行に失敗しました。管理者にお問い合わせください。",
      done_title: "更新が完了しました",
      done_hint: "新しい証明書をダウンロードしました。インストールのときに次のパスワードを入力してください。パスワードはこの画面で一度だけ表示されます。",
      password: "パスワード",
      file: "ファイル",
      old_revoked: "これまでの証明書は失効しました。新しい証明書をインストールしてください。",
      not_found: "このページは見つかりません。URL を確認してください。",
      network: "サーバーに接続できません。しばらくしてから再度お試しください。",
      loading: "証明書を確認しています…",
      devices: { "01": "WindowsPC", "11": "iOS(iPhone)", "12": "iOS(iPad)", "20": "Android", "99": "その他", "": "-" },
    },
    en: {
      title: "Certificate renewal",
      current_title: "Current certificate",
      cn: "Certificate",
      email: "E-mail address",
      device: "Device",
      expires: "Expires",
      renew: "Issue a new certificate",
      download: "Download the new certificate",
      renewable: "This certificate can be renewed. A new certificate (new key, serial number and password) will be issued.",
      issuing: "The new certificate is being issued…",
      ready: "The new certificate is ready. Once you download it, the current certificate is revoked. Its password is shown only once.",
      failed: "The new certificate could not be issued. Please ask your administrator.",
      done_title: "Renewal complete",
      done_hint: "The new certificate has been downloaded. Enter this password when you install it. It is shown only once, on this screen.",
      password: "Password",
      file: "File",
      old_revoked: "The previous certificate has been revoked. Please install the new one.",
      not_found: "This page does not exist. Check the URL.",
      network: "Cannot reach the server. Please try again shortly.",
      loading: "Checking your certificate…",
      devices: { "01": "Windows PC", "11": "iOS (iPhone)", "12": "iOS (iPad)", "20": "Android", "99": "Other", "": "-" },
    },
  };

  const m = location.pathname.match(/^\/dl\/([a-z0-9][a-z0-9-]{0,62})\/renew$/);
  const tenant = m ? m[1] : "";
  const api = "/api/dl/" + tenant + "/renew";
  const query = location.search || "";
  let lang = localStorage.getItem("shomei-dl-lang") || ((navigator.language || "ja").startsWith("en") ? "en" : "ja");
  let doc = null, csrf = "", refusal = null, timer = null;
  const $ = (id) => document.getElementById(id);
  const t = (k) => T[lang][k];

  function status(text, isError) {
    const s = $("status");
    s.textContent = text || "";
    s.className = isError ? "status error" : "status";
  }

  function render() {
    document.documentElement.lang = lang;
    document.title = t("title");
    document.querySelectorAll("[data-t]").forEach((el) => { el.textContent = t(el.dataset.t); });
    $("lang-ja").setAttribute("aria-pressed", String(lang === "ja"));
    $("lang-en").setAttribute("aria-pressed", String(lang === "en"));
    if (!doc) return;
    const c = doc.certificate;
    $("cur-cn").textContent = c.cn;
    $("cur-email").textContent = c.email;
    $("cur-device").textContent = t("devices")[c.device] || c.device;
    $("cur-expires").textContent = c.expires_at;
    $("hint").textContent = t(doc.state);
    $("renew").hidden = doc.state !== "renewable";
    $("download").hidden = doc.state !== "ready";
  }

  async function call(method, path) {
    const opts = { method, credentials: "same-origin", headers: { "Accept-Language": lang } };
    // the POSTs carry no body: the certificate, the session and the token say everything
    if (method !== "GET") opts.headers["X-CSRF-Token"] = csrf;
    const r = await fetch(api + path + (method === "GET" ? query : ""), opts);
    let body = null;
    try { body = await r.json(); } catch (e) { body = null; }
    return { status: r.status, doc: body };
  }

  // A refusal is the server's own sentence, in the language asked for: ask again on a switch.
  function refused(r) {
    doc = null;
    $("current").hidden = true;
    refusal = r.status;
    status(r.status === 404 ? t("not_found") : (r.doc && r.doc.error && r.doc.error.message) || t("network"), true);
    document.body.dataset.refusal = (r.doc && r.doc.error && r.doc.error.code) || String(r.status);
  }

  function accept(r) {
    doc = r.doc;
    if (doc.csrf_token) csrf = doc.csrf_token;
    refusal = null;
    delete document.body.dataset.refusal;
    status("");
    $("current").hidden = false;
    document.body.dataset.state = doc.state;
    render();
    clearTimeout(timer);
    if (doc.state === "issuing") timer = setTimeout(refresh, 1500);
  }

  async function refresh() {
    let r;
    try { r = await call("GET", ""); } catch (e) { status(t("network"), true); return; }
    if (r.status === 200) accept(r); else refused(r);
  }

  async function renew() {
    $("renew").disabled = true;
    let r;
    try { r = await call("POST", ""); } catch (e) { r = { status: 0 }; }
    $("renew").disabled = false;
    if (r.status === 200) accept(r); else refused(r);
  }

  function save(name, b64) {
    const bin = atob(b64), bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    const url = URL.createObjectURL(new Blob([bytes], { type: "application/x-pkcs12" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  async function download() {
    $("download").disabled = true;
    let r;
    try { r = await call("POST", "/download"); } catch (e) { r = { status: 0 }; }
    $("download").disabled = false;
    if (r.status !== 200) { refused(r); return; }
    save(r.doc.filename, r.doc.p12);
    $("new-password").textContent = r.doc.password;
    $("new-file").textContent = r.doc.filename;
    $("current").hidden = true;
    $("done").hidden = false;
    document.body.dataset.state = "done";
    status("");
  }

  document.addEventListener("DOMContentLoaded", () => {
    const switchTo = (l) => {
      lang = l;
      localStorage.setItem("shomei-dl-lang", lang);
      render();
      if (refusal !== null) refresh();
    };
    $("lang-ja").addEventListener("click", () => switchTo("ja"));
    $("lang-en").addEventListener("click", () => switchTo("en"));
    $("renew").addEventListener("click", renew);
    $("download").addEventListener("click", download);
    render();
    if (!tenant) {
      status(t("not_found"), true);
      return;
    }
    status(t("loading"));
    refresh();
  });
})();
