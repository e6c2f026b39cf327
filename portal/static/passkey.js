/* Passkeys (WebAuthn), served from the portal (CSP script-src 'self'). A form marked
   data-passkey="create" or "get" carries the server's options (JSON) in data-options; on submit
   the browser asks the device for a passkey, and the form posts what the device answered, as
   JSON, in its "credential" field (with the form's CSRF token). The server checks everything:
   the challenge, the origin, the signature and the counter. */
(function () {
  "use strict";

  function bytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    var binary = atob(base64 + "====".slice(base64.length % 4 || 4));
    return Uint8Array.from(binary, function (c) { return c.charCodeAt(0); });
  }

  function text(buffer) {
    var binary = String.fromCharCode.apply(null, new Uint8Array(buffer));
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function decoded(json, create) {
    var options = JSON.parse(json);
    options.challenge = bytes(options.challenge);
    if (create) { options.user.id = bytes(options.user.id); }
    (options.excludeCredentials || options.allowCredentials || []).forEach(function (c) { c.id = bytes(c.id); });
    return options;
  }

  function encoded(credential) {
    var r = credential.response;
    var answer = {clientDataJSON: text(r.clientDataJSON)};
    if (r.attestationObject) {
      answer.attestationObject = text(r.attestationObject);
      answer.transports = r.getTransports ? r.getTransports() : [];
    } else {
      answer.authenticatorData = text(r.authenticatorData);
      answer.signature = text(r.signature);
      if (r.userHandle) { answer.userHandle = text(r.userHandle); }
    }
    return JSON.stringify({id: credential.id, rawId: text(credential.rawId), type: credential.type,
                           response: answer, clientExtensionResults: credential.getClientExtensionResults(),
                           authenticatorAttachment: credential.authenticatorAttachment || undefined});
  }

  function ask(form) {
    var create = form.dataset.passkey === "create";
    var options = {publicKey: decoded(form.dataset.options, create)};
    return create ? navigator.credentials.create(options) : navigator.credentials.get(options);
  }

  function failed(form) {
    var status = form.querySelector(".passkey-status");
    status.textContent = form.dataset.failed;
    status.hidden = false;
  }

  document.querySelectorAll("form[data-passkey]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!window.PublicKeyCredential || !navigator.credentials) { failed(form); return; }
      ask(form).then(function (credential) {
        form.querySelector("input[name=credential]").value = encoded(credential);
        form.submit();
      }).catch(function () { failed(form); });
    });
  });
})();
