// When a signed-in session ends (idle, signed out elsewhere, account removed) or a share
// link's visitor asks for another page, the server answers Dash's requests with a
// "sign in" refusal (header X-Pathways-Sign-In); go to the sign-in page, then come back here.
(function () {
  if (!window.fetch) { return; }
  const original = window.fetch;
  window.fetch = function () {
    return original.apply(this, arguments).then(function (response) {
      if (response.headers && response.headers.get('X-Pathways-Sign-In')) {
        const here = window.location.pathname + window.location.search;
        window.location.assign('/login?next=' + encodeURIComponent(here));
      }
      return response;
    });
  };
})();
