/* mamori cookie banner. No dependencies. Include once, anywhere in the page:
   <script async src="https://privacy.example.jp/consent/banner.js" data-lang="ja"></script>
   Blocked until consent: <script type="text/plain" data-mamori-category="analytics" src="...">,
   <iframe data-mamori-src="..." data-mamori-service="youtube" width=".." height=".." title="..">.
   data-mamori-category="consent-mode": runs once the Consent Mode default is set (Google tag).
   An element with data-mamori-open opens the settings again. */
(function (w, d) {
  'use strict';
  var me = d.currentScript;
  if (!me || w.mamori) return;
  var base = me.src.replace(/\/consent\/banner\.js.*$/, '');
  var lang = me.getAttribute('data-lang') || (/^en/.test(d.documentElement.lang) ? 'en' : 'ja');
  var TYPES = ['ad_storage', 'ad_user_data', 'ad_personalization', 'analytics_storage',
    'functionality_storage', 'personalization_storage', 'security_storage'];
  var cfg, text, hash, gpc, state, stored, box, back, held = [], deny = { wait_for_update: 500 };
  w.dataLayer = w.dataLayer || [];
  if (!w.gtag) w.gtag = function () { w.dataLayer.push(arguments); };
  // Consent Mode's default comes first, before anything can fail: every type denied.
  TYPES.forEach(function (t) { deny[t] = 'denied'; });
  w.gtag('consent', 'default', deny);

  function el(tag, cls, txt) {
    var e = d.createElement(tag);
    if (cls) e.className = cls;
    if (txt != null) e.textContent = txt;
    return e;
  }
  function each(sel, fn) { Array.prototype.forEach.call(d.querySelectorAll(sel), fn); }
  function list(s) { return s ? s.split('-') : []; }
  function service(id) {
    for (var i = 0; i < text.categories.length; i++) {
      var c = text.categories[i];
      for (var j = 0; j < c.services.length; j++) if (c.services[j].id === id) return [c, c.services[j]];
    }
    return null;
  }

  // -- the choice and its first-party cookie: id.section.time.granted.refused ----------------
  function read() {
    var m = d.cookie.match(/(?:^|; )mamori_consent=([^;]*)/), p = m ? m[1].split('.') : [];
    if (p.length !== 5) return null;
    return { id: p[0], at: +p[2], valid: !!cfg && p[1] === cfg.section && Date.now() / 1000 - p[2] < cfg.days * 86400,
      granted: list(p[3]), refused: list(p[4]) };
  }
  function keep(id, at, g, r) {
    d.cookie = 'mamori_consent=' + [id, cfg.section, at, g.join('-'), r.join('-')].join('.') +
      '; Max-Age=' + cfg.days * 86400 + '; Path=/; SameSite=Lax' + (location.protocol === 'https:' ? '; Secure' : '');
    stored = read();
  }
  function choose(granted, refused) {
    state = { c: {}, s: {} };
    text.categories.forEach(function (c) {
      state.c[c.id] = c.required || granted.indexOf(c.id) >= 0;
      c.services.forEach(function (s) { state.s[s.id] = state.c[c.id] && refused.indexOf(s.id) < 0; });
    });
  }
  function newId() {
    var a = new Uint8Array(16);
    w.crypto.getRandomValues(a);
    return btoa(String.fromCharCode.apply(null, a)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }
  function modes() {
    var o = {};
    TYPES.forEach(function (t) { o[t] = 'denied'; });
    text.categories.forEach(function (c) {
      if (state.c[c.id]) (cfg.modes[c.id] || []).forEach(function (t) { o[t] = 'granted'; });
    });
    return o;
  }
  function allowed(cat, svc) {
    if (cat === 'consent-mode') return true;
    if (!text) return false;
    var found = svc && service(svc);
    if (svc) return !!found && state.c[found[0].id] && state.s[svc];
    return !!state.c[cat];
  }

  // -- blocked scripts and embeds ------------------------------------------------------------
  function apply() {
    each('script[type="text/plain"][data-mamori-category],script[type="text/plain"][data-mamori-service]', function (s) {
      if (!allowed(s.getAttribute('data-mamori-category'), s.getAttribute('data-mamori-service'))) return;
      var n = el('script');
      Array.prototype.forEach.call(s.attributes, function (a) {
        if (a.name !== 'type' && a.name.indexOf('data-mamori') !== 0) n.setAttribute(a.name, a.value);
      });
      if (s.src) n.async = false; else n.text = s.text;
      s.removeAttribute('data-mamori-category');
      s.removeAttribute('data-mamori-service');
      s.parentNode.insertBefore(n, s.nextSibling);
    });
    each('iframe[data-mamori-src]', function (f) { held.push(f); });
    held = held.filter(function (f) {
      var svc = f.getAttribute('data-mamori-service'), found = text && svc && service(svc);
      if (!text) {  // no settings: the embed stays blocked, and says why
        if (!f.mamori) hold(f, el('p', 0, lang === 'en' ? 'Not shown: the cookie settings could not be loaded.' :
          'クッキーの設定を読み込めないため表示できません。'), svc);
        return true;
      }
      if (allowed(f.getAttribute('data-mamori-category'), svc)) {
        f.src = f.getAttribute('data-mamori-src');
        f.removeAttribute('data-mamori-src');
        if (f.mamori) f.mamori.parentNode.replaceChild(f, f.mamori);
        return false;
      }
      if (f.mamori && !f.mamori.ok) {  // drawn before the settings came: draw it again
        f.mamori.parentNode.replaceChild(f, f.mamori);
        f.mamori = null;
      }
      if (!f.mamori) {
        var name = found ? found[1].name : f.title, by = found ? found[1].provider : '',
          b = el('button', 'mamori-btn', text.embed.button),
          p = hold(f, el('p', 0, text.embed.notice.replace(/\{service\}/g, name).replace(/\{provider\}/g, by)), name);
        p.ok = 1;
        b.type = 'button';
        b.onclick = function () {
          var c = found ? found[0].id : f.getAttribute('data-mamori-category'), g = granted(), r = refused();
          if (!state.c[c]) {
            g.push(c);
            (found ? found[0].services : []).forEach(function (s) { if (s.id !== svc) r.push(s.id); });
          }
          commit('custom', g, r);
        };
        p.appendChild(b);
      }
      return true;
    });
  }
  function hold(f, words, name) {  // the placeholder, in the embed's place and size
    var p = el('div', 'mamori-embed');
    p.style.boxSizing = 'border-box';
    p.style.display = getComputedStyle(f).display === 'block' ? 'block' : 'inline-block';
    p.style.width = f.offsetWidth + 'px';
    p.style.height = f.offsetHeight + 'px';
    p.setAttribute('role', 'group');
    p.setAttribute('aria-label', f.title || name);
    p.appendChild(words);
    f.mamori = p;
    f.parentNode.replaceChild(p, f);
    return p;
  }
  function granted() {
    return text.categories.filter(function (c) { return !c.required && state.c[c.id]; }).map(function (c) { return c.id; });
  }
  function refused() {
    var out = [];
    text.categories.forEach(function (c) {
      c.services.forEach(function (s) { if (state.c[c.id] && !state.s[s.id]) out.push(s.id); });
    });
    return out;
  }

  // -- recording a choice ----------------------------------------------------------------------
  function commit(method, g, r) {
    var id = (stored && stored.id) || newId();
    choose(g, r);
    keep(id, Math.floor(Date.now() / 1000), g, r);
    w.gtag('consent', 'update', modes());
    apply();
    close();
    fetch(base + '/consent/receipts', {
      method: 'POST', keepalive: true, headers: { 'Content-Type': 'text/plain' },
      body: JSON.stringify({ consent_id: id, version: cfg.version, lang: lang, hash: hash, gpc: gpc,
        method: method, source: 'banner', categories: state.c, services: state.s })
    }).catch(function () {});
  }

  // -- the dialog ------------------------------------------------------------------------------
  function close() {
    if (!box) return;
    box.parentNode.removeChild(box);
    box = null;
    if (back && back.focus && back !== d.body) back.focus();
  }
  function open(settings) {
    if (box) return;
    var t = text, panel = el('form', 'mamori-settings'), acts = el('div', 'mamori-actions'), more;
    back = d.activeElement;
    box = el('div', 'mamori-banner');
    box.setAttribute('role', 'dialog');
    box.setAttribute('aria-modal', 'false');
    box.setAttribute('aria-labelledby', 'mamori-title');
    box.setAttribute('aria-describedby', 'mamori-body');
    box.setAttribute('lang', lang);
    box.tabIndex = -1;
    var h = el('h2', 0, t.title), p = el('p', 0, t.body + ' '), a = el('a', 0, t.policy);
    h.id = 'mamori-title';
    p.id = 'mamori-body';
    a.href = base + '/privacy?lang=' + lang + '#mamori-policy-cookies';
    p.appendChild(a);
    box.appendChild(h);
    box.appendChild(p);
    if (gpc && t.gpc_notice) box.appendChild(el('p', 'mamori-gpc', t.gpc_notice));
    [['accept_all', t.accept], ['reject_all', t.reject]].forEach(function (x) {
      var b = el('button', 'mamori-btn', x[1]);
      b.type = 'button';
      b.onclick = function () {
        var all = x[0] === 'accept_all';
        commit(x[0], all ? text.categories.filter(function (c) { return !c.required && !(gpc && c.gpc); })
          .map(function (c) { return c.id; }) : [], []);
      };
      acts.appendChild(b);
    });
    more = el('button', 'mamori-more', t.settings);
    more.type = 'button';
    more.setAttribute('aria-expanded', 'false');
    more.setAttribute('aria-controls', 'mamori-settings');
    more.onclick = function () {
      panel.hidden = !panel.hidden;
      more.setAttribute('aria-expanded', String(!panel.hidden));
    };
    acts.appendChild(more);
    box.appendChild(acts);
    panel.id = 'mamori-settings';
    panel.hidden = !settings;
    more.setAttribute('aria-expanded', String(!!settings));
    t.categories.forEach(function (c) {
      var fs = el('fieldset'), lg = el('legend'), lb = el('label'), cb = el('input');
      cb.type = 'checkbox';
      cb.name = 'c';
      cb.value = c.id;
      cb.checked = state.c[c.id];
      cb.disabled = c.required;
      fs.id = 'mamori-c-' + c.id;
      cb.onchange = function () {  // the category's services follow it
        each('#mamori-c-' + c.id + ' input[name=s]', function (i) { i.checked = cb.checked; });
      };
      lb.appendChild(cb);
      lb.appendChild(d.createTextNode(' ' + c.label + (c.required ? ' (' + t.always_on + ')' : '')));
      lg.appendChild(lb);
      fs.appendChild(lg);
      if (c.description) fs.appendChild(el('p', 0, c.description));
      if (c.services.length) {
        var det = el('details'), ul = el('ul');
        det.appendChild(el('summary', 0, t.labels.services + ' (' + c.services.length + ')'));
        c.services.forEach(function (s) {
          var li = el('li'), sl = el('label'), sb = el('input'), pp = el('a', 0, t.labels.privacy_policy);
          sb.type = 'checkbox';
          sb.name = 's';
          sb.value = s.id;
          sb.checked = c.required || state.s[s.id];
          sb.disabled = c.required;
          sb.onchange = function () {
            // A service on turns its category on; the last one off turns it off.
            var on = false;
            each('#mamori-c-' + c.id + ' input[name=s]', function (i) { on = on || i.checked; });
            cb.checked = on;
          };
          sl.appendChild(sb);
          sl.appendChild(d.createTextNode(' ' + s.name));
          li.appendChild(sl);
          li.appendChild(el('p', 0, t.labels.provider + ': ' + s.provider));
          li.appendChild(el('p', 0, t.labels.purpose + ': ' + s.purpose));
          pp.href = s.privacy_policy_url;
          li.appendChild(pp);
          if (s.opt_out_url) {
            var o = el('a', 0, t.labels.opt_out);
            o.href = s.opt_out_url;
            li.appendChild(d.createTextNode(' '));
            li.appendChild(o);
          } else li.appendChild(el('span', 0, ' ' + t.labels.opt_out_none));
          ul.appendChild(li);
        });
        det.appendChild(ul);
        fs.appendChild(det);
      }
      panel.appendChild(fs);
    });
    var save = el('button', 'mamori-btn', t.save);
    save.type = 'submit';
    panel.appendChild(save);
    panel.onsubmit = function (e) {
      e.preventDefault();
      var g = [], r = [];
      each('#mamori-settings input[name=c]:checked:not(:disabled)', function (i) { g.push(i.value); });
      each('#mamori-settings input[name=s]:not(:checked):not(:disabled)', function (i) {
        var f = service(i.value);
        if (f && g.indexOf(f[0].id) >= 0) r.push(i.value);
      });
      commit('custom', g, r);
    };
    box.appendChild(panel);
    d.body.appendChild(box);
    box.focus();
  }

  // -- start: stylesheet and settings, then the default, the stored choice or the banner -------
  var css = el('link');
  css.rel = 'stylesheet';
  css.href = base + '/consent/banner.css';
  var styled = new Promise(function (ok) { css.onload = css.onerror = ok; });
  d.head.appendChild(css);
  var ready = new Promise(function (ok) {
    if (d.readyState === 'loading') d.addEventListener('DOMContentLoaded', ok); else ok();
  });
  stored = read();
  Promise.all([fetch(base + '/consent/config?lang=' + lang + (stored && /^[\w-]{22}$/.test(stored.id) ? '&id=' + stored.id : '')).then(function (r) {
    return r.json().catch(function () { return {}; }).then(function (b) { if (!r.ok) throw b; return b; });
  }), styled, ready])
    .then(function (all) {
      cfg = all[0];
      text = cfg.text;
      hash = cfg.hash;
      gpc = cfg.gpc || !!navigator.globalPrivacyControl;
      if (gpc && cfg.alt) {
        text = Object.assign({}, text, cfg.alt.text);
        hash = cfg.alt.hash;
      }
      stored = read();
      var mine = cfg.person, valid = stored && stored.valid;
      // The person's newest choice, made elsewhere (the privacy center, another site), wins.
      if (mine && stored && (!valid || mine.at > stored.at)) {
        keep(stored.id, mine.at, mine.granted, mine.refused);
        valid = true;
      }
      choose(valid ? stored.granted : [], valid ? stored.refused : []);
      w.gtag('consent', 'update', modes());
      apply();
      if (!valid) open(false);
      d.addEventListener('click', function (e) {
        var o = e.target.closest && e.target.closest('[data-mamori-open]');
        if (o) { e.preventDefault(); open(true); }
      });
    }, function (e) {
      // Say what is wrong, where the site's developer looks; nothing that needs consent runs.
      console.warn('mamori: ' + (e && e.setting ? 'this site (' + location.origin + ') may not use the cookie banner of ' +
        base + ': add its origin to ' + e.setting + ' on the mamori server.' : 'no answer from ' + base +
        '/consent/config: is mamori running there? The banner is not shown.') + ' Until then nothing that needs consent runs.');
      ready.then(apply);
    });
  w.mamori = { open: function () { if (cfg) open(true); } };
})(window, document);
