/*!
 * Talk Together chat widget. Open source; see the project's LICENSE.
 *
 * A school adds the chat to its website with one line:
 *
 *   <script src="https://ASSISTANT/widget.js" data-server="https://ASSISTANT"
 *           data-title="Talk Together" defer></script>
 *
 * Options (attributes on that <script> tag; all optional):
 *
 *   data-server    Address of the Talk Together server, e.g. "https://chat.example.org".
 *                  Default: the origin of this script's own src. The widget loads ONLY
 *                  from here: ${server}/widget.css, ${server}/widget/socket.io.min.js,
 *                  ${server}/widget/config.json, and the Socket.IO connection at
 *                  ${server}/socket.io?session_id=<the conversation id> (the id lets a load
 *                  balancer keep the conversation on one server). It makes no other requests.
 *   data-title     Title shown at the top of the chat panel. Default: "Talk Together".
 *   data-exit-url  Where "Exit quickly" (and the Escape key) goes. An http(s) address;
 *                  anything else is ignored. Default: "https://www.bbc.co.uk/weather".
 *   data-position  "right" (default) or "left": the bottom corner for the chat button.
 *   data-open      "true" to show the chat panel open when the page loads (focus is not
 *                  moved, so the page does not jump for keyboard and screen reader users).
 *                  Default: closed.
 *
 * Privacy and safety:
 *   - The conversation id is a random UUID kept only in sessionStorage ("tt-session-id"),
 *     with the visible transcript ("tt-transcript") and whether the panel is open
 *     ("tt-open"). No cookies, no localStorage, no analytics.
 *   - The Socket.IO connection is opened only when someone opens the chat. When it is lost
 *     (a server behind a load balancer dies), Socket.IO connects again; the widget asks for
 *     the same conversation and sends again any message no reply came to. A message that got
 *     a reply is never sent twice.
 *   - Quick exit: the "Exit quickly" button, or the Escape key anywhere on the page, clears
 *     those keys, disconnects, removes the widget and replaces the page in the history with
 *     the exit address (the back button does not return to the chat).
 *   - Messages are built with createElement/textContent only; the only links made are exact
 *     occurrences of the addresses the server lists in config.json (link_addresses).
 *
 * Sites with a Content-Security-Policy must allow the server in script-src, style-src and
 * connect-src (both https: and wss: for the server's host). The widget sets no inline styles
 * or scripts.
 *
 * Stable hooks (for tests and site styling): #talk-together-widget (root), #tt-launcher,
 * #tt-panel, #tt-log, #tt-input, #tt-exit, #tt-clear, #tt-close; messages are
 * ".tt-msg.tt-bot" and ".tt-msg.tt-user"; reply buttons are ".tt-choice".
 *
 * Plain ES2019, no build step, no dependencies except the vendored Socket.IO client.
 */
(function () {
  'use strict';

  const ROOT_ID = 'talk-together-widget';
  if (window.__talkTogetherWidgetLoaded || document.getElementById(ROOT_ID)) {
    return;
  }
  window.__talkTogetherWidgetLoaded = true;

  const DEFAULT_TITLE = 'Talk Together';
  const DEFAULT_EXIT_URL = 'https://www.bbc.co.uk/weather';
  const DEFAULT_NUMBER = '999';
  const DEFAULT_EMERGENCY_TEXT = 'Child in danger now? Call 999';
  const LAUNCHER_QUESTION = 'Worried about a child online?';
  const LAUNCHER_ACTION = 'Chat';
  const KEY_ID = 'tt-session-id';
  const KEY_TRANSCRIPT = 'tt-transcript';
  const KEY_OPEN = 'tt-open';
  const STORAGE_KEYS = [KEY_ID, KEY_TRANSCRIPT, KEY_OPEN];
  const MAX_STORED_MESSAGES = 200;
  const MAX_MESSAGE_LENGTH = 1000;
  const REPLY_TIMEOUT_MS = 30000;
  const CONNECT_TIMEOUT_MS = 10000;
  const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

  // ---------------------------------------------------------------- options

  const script = document.currentScript || findOwnScript();

  function findOwnScript() {
    const scripts = document.getElementsByTagName('script');
    for (let i = scripts.length - 1; i >= 0; i -= 1) {
      const src = scripts[i].getAttribute('src') || '';
      if (/(^|\/)widget\.js(\?|#|$)/.test(src)) {
        return scripts[i];
      }
    }
    return null;
  }

  function attr(name) {
    const value = script ? script.getAttribute(name) : null;
    return value === null ? '' : value.trim();
  }

  function httpUrl(value, base) {
    try {
      const url = new URL(value, base);
      return url.protocol === 'https:' || url.protocol === 'http:' ? url : null;
    } catch (error) {
      return null;
    }
  }

  function serverAddress() {
    const given = attr('data-server') ? httpUrl(attr('data-server'), document.baseURI) : null;
    const own = script && script.src ? httpUrl(script.src) : null;
    const url = given || (own && new URL(own.origin)) || new URL(window.location.origin);
    // No query or fragment; no trailing slash, so `${server}/widget.css` is well formed.
    return url.origin + url.pathname.replace(/\/+$/, '');
  }

  const server = serverAddress();
  const title = attr('data-title') || DEFAULT_TITLE;
  const exitUrlObject = httpUrl(attr('data-exit-url') || DEFAULT_EXIT_URL, document.baseURI);
  const exitUrl = exitUrlObject ? exitUrlObject.href : DEFAULT_EXIT_URL;
  const position = attr('data-position').toLowerCase() === 'left' ? 'left' : 'right';
  const startOpen = attr('data-open').toLowerCase() === 'true';

  // ---------------------------------------------------------------- storage (sessionStorage only)

  const memoryStore = {};

  function storageGet(key) {
    try {
      return window.sessionStorage.getItem(key);
    } catch (error) {
      return Object.prototype.hasOwnProperty.call(memoryStore, key) ? memoryStore[key] : null;
    }
  }

  function storageSet(key, value) {
    memoryStore[key] = value;
    try {
      window.sessionStorage.setItem(key, value);
    } catch (error) {
      // Storage is off or full: the in-memory copy is used for this page.
    }
  }

  function storageClear() {
    for (const key of STORAGE_KEYS) {
      delete memoryStore[key];
      try {
        window.sessionStorage.removeItem(key);
      } catch (error) {
        // Nothing stored.
      }
    }
  }

  function uuid4() {
    const cryptoObj = window.crypto;
    if (cryptoObj && typeof cryptoObj.randomUUID === 'function') {
      try {
        return cryptoObj.randomUUID();
      } catch (error) {
        // Not a secure context in some browsers: fall through.
      }
    }
    const bytes = new Uint8Array(16);
    if (cryptoObj && typeof cryptoObj.getRandomValues === 'function') {
      cryptoObj.getRandomValues(bytes);
    } else {
      for (let i = 0; i < 16; i += 1) {
        bytes[i] = Math.floor(Math.random() * 256);
      }
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, function (b) {
      return b.toString(16).padStart(2, '0');
    }).join('');
    return (
      hex.slice(0, 8) + '-' + hex.slice(8, 12) + '-' + hex.slice(12, 16) + '-' +
      hex.slice(16, 20) + '-' + hex.slice(20)
    );
  }

  function loadSessionId() {
    const stored = storageGet(KEY_ID);
    if (stored && UUID_RE.test(stored)) {
      return stored;
    }
    const fresh = uuid4();
    storageSet(KEY_ID, fresh);
    return fresh;
  }

  function loadTranscript() {
    try {
      const parsed = JSON.parse(storageGet(KEY_TRANSCRIPT) || '[]');
      if (!Array.isArray(parsed)) return [];
      return parsed.filter(isStoredMessage).map(function (m) {
        const message = { from: m.from, text: m.text };
        const choices = m.from === 'bot' ? choicesFrom(m.choices) : [];
        if (choices.length) {
          message.choices = choices;
          message.used = m.used === true;
          if (typeof m.chosen === 'number') message.chosen = m.chosen;
        }
        return message;
      });
    } catch (error) {
      return [];
    }
  }

  function isStoredMessage(m) {
    return (
      m && typeof m === 'object' && (m.from === 'bot' || m.from === 'user') &&
      typeof m.text === 'string' && (m.choices === undefined || Array.isArray(m.choices))
    );
  }

  function saveTranscript() {
    if (transcript.length > MAX_STORED_MESSAGES) {
      transcript.splice(0, transcript.length - MAX_STORED_MESSAGES);
    }
    storageSet(KEY_TRANSCRIPT, JSON.stringify(transcript));
  }

  // ---------------------------------------------------------------- state

  let sessionId = loadSessionId();
  let transcript = loadTranscript();
  const config = {
    number: DEFAULT_NUMBER,
    emergencyText: DEFAULT_EMERGENCY_TEXT,
    links: [],
  };
  let ioFactory = null;
  let ioState = 'idle'; // idle | loading | ready | failed
  let socket = null;
  let confirmed = false;
  let outage = false; // an error line was shown for the current connection problem
  const outbox = []; // {payload, replied}: to send once the session is confirmed
  const inFlight = []; // sent, until the server acknowledges that their turn has run
  let typingTimer = 0;
  let connectTimer = 0;
  let exiting = false;

  // ---------------------------------------------------------------- DOM helpers

  function el(tag, props, children) {
    const node = document.createElement(tag);
    if (props) {
      for (const name of Object.keys(props)) {
        const value = props[name];
        if (value === null || value === undefined || value === false) continue;
        if (name === 'className') node.className = value;
        else if (name === 'text') node.textContent = value;
        else node.setAttribute(name, value === true ? '' : String(value));
      }
    }
    if (children) {
      for (const child of children) {
        if (child !== null && child !== undefined) {
          node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
        }
      }
    }
    return node;
  }

  function svgIcon(pathData) {
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    svg.setAttribute('width', '24'); // sizes without the stylesheet; widget.css sets them in em
    svg.setAttribute('height', '24');
    svg.setAttribute('class', 'tt-icon');
    const path = document.createElementNS(ns, 'path');
    path.setAttribute('d', pathData);
    svg.appendChild(path);
    return svg;
  }

  function phoneLike(address) {
    return /^\+?[0-9][0-9 ()-]{1,20}$/.test(address);
  }

  function telHref(number) {
    return 'tel:' + number.replace(/[^0-9+]/g, '');
  }

  function webHref(address) {
    const candidate = /^https?:\/\//i.test(address) ? address : 'https://' + address;
    const url = httpUrl(candidate);
    return url ? url.href : null;
  }

  // Split bot text into text nodes and links for exact occurrences of configured addresses.
  function linkify(text) {
    const fragment = document.createDocumentFragment();
    const addresses = config.links;
    let plainStart = 0;
    let i = 0;
    while (i < text.length) {
      let match = null;
      for (const address of addresses) {
        if (text.startsWith(address, i) && isBoundary(text, i, i + address.length)) {
          match = address; // addresses are sorted longest first
          break;
        }
      }
      if (!match) {
        i += 1;
        continue;
      }
      const link = makeLink(match);
      if (!link) {
        i += match.length;
        continue;
      }
      if (i > plainStart) fragment.appendChild(document.createTextNode(text.slice(plainStart, i)));
      fragment.appendChild(link);
      i += match.length;
      plainStart = i;
    }
    if (plainStart < text.length) fragment.appendChild(document.createTextNode(text.slice(plainStart)));
    return fragment;
  }

  function isBoundary(text, start, end) {
    const before = start > 0 ? text[start - 1] : '';
    const after = end < text.length ? text[end] : '';
    const next = end + 1 < text.length ? text[end + 1] : '';
    if (/[A-Za-z0-9_\-/.@:+]/.test(before)) return false;
    if (/[A-Za-z0-9_\-/@]/.test(after)) return false;
    if ((after === '.' || after === ':') && /[A-Za-z0-9]/.test(next)) return false;
    return true;
  }

  function makeLink(address) {
    if (phoneLike(address)) {
      return el('a', { className: 'tt-link tt-tel', href: telHref(address), text: address });
    }
    const href = webHref(address);
    if (!href) return null;
    return el('a', {
      className: 'tt-link',
      href: href,
      target: '_blank',
      rel: 'noopener noreferrer',
      'aria-describedby': 'tt-newtab',
      text: address,
    });
  }

  // ---------------------------------------------------------------- build the widget

  const root = el('section', {
    id: ROOT_ID,
    className: 'tt-widget tt-' + position,
    'aria-label': title + ' chat',
    hidden: true, // until widget.css has loaded, so the page never shows an unstyled widget
  });

  const launcher = el(
    'button',
    {
      type: 'button',
      id: 'tt-launcher',
      className: 'tt-launcher',
      'aria-expanded': 'false',
      'aria-controls': 'tt-panel',
    },
    [
      svgIcon('M4 3h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H10l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z'),
      el('span', { className: 'tt-launcher-text' }, [
        el('span', { className: 'tt-launcher-question', text: LAUNCHER_QUESTION }),
        ' ',
        el('span', { className: 'tt-launcher-action', text: LAUNCHER_ACTION }),
      ]),
    ]
  );

  const titleEl = el('h2', { id: 'tt-title', className: 'tt-title', text: title });
  const clearButton = el('button', {
    type: 'button',
    id: 'tt-clear',
    className: 'tt-button tt-button-quiet',
    text: 'Delete conversation',
  });
  const closeButton = el(
    'button',
    { type: 'button', id: 'tt-close', className: 'tt-button tt-close', 'aria-label': 'Close chat' },
    [svgIcon('M6.4 5 5 6.4 10.6 12 5 17.6 6.4 19 12 13.4 17.6 19 19 17.6 13.4 12 19 6.4 17.6 5 12 10.6z')]
  );
  const emergencyEl = el('p', { id: 'tt-emergency', className: 'tt-emergency' });
  const exitButton = el('button', {
    type: 'button',
    id: 'tt-exit',
    className: 'tt-button tt-exit',
    text: 'Exit quickly',
  });

  const intro = el('p', {
    className: 'tt-intro',
    text:
      'I\u2019m an automated helper, not a person. Ask a question or tell me what is worrying you. ' +
      'Please don\u2019t type names, addresses or phone numbers.',
  });
  const log = el('div', {
    id: 'tt-log',
    className: 'tt-log',
    role: 'log',
    'aria-live': 'polite',
    'aria-label': 'Conversation',
    tabindex: '0',
  }, [intro]);
  const typing = el(
    'div',
    { id: 'tt-typing', className: 'tt-typing', hidden: true },
    [
      el('span', { className: 'tt-dots', 'aria-hidden': 'true' }, [
        el('span', { className: 'tt-dot' }),
        el('span', { className: 'tt-dot' }),
        el('span', { className: 'tt-dot' }),
      ]),
      el('span', { className: 'tt-typing-text', text: title + ' is typing\u2026' }),
    ]
  );

  const input = el('input', {
    id: 'tt-input',
    className: 'tt-input',
    type: 'text',
    name: 'message',
    autocomplete: 'off',
    enterkeyhint: 'send',
    maxlength: String(MAX_MESSAGE_LENGTH),
    placeholder: 'Type your message\u2026',
  });
  const form = el('form', { id: 'tt-form', className: 'tt-form', novalidate: true }, [
    el('label', { for: 'tt-input', className: 'tt-sr-only', text: 'Type your message' }),
    input,
    el('button', { type: 'submit', id: 'tt-send', className: 'tt-button tt-send', text: 'Send' }),
  ]);

  const panel = el(
    'div',
    {
      id: 'tt-panel',
      className: 'tt-panel',
      role: 'dialog',
      'aria-modal': 'false',
      'aria-labelledby': 'tt-title',
      hidden: true,
    },
    [
      el('div', { className: 'tt-header' }, [
        el('div', { className: 'tt-header-top' }, [
          titleEl,
          el('div', { className: 'tt-header-actions' }, [clearButton, closeButton]),
        ]),
        el('div', { className: 'tt-safety' }, [emergencyEl, exitButton]),
      ]),
      log,
      typing,
      form,
      el('span', { id: 'tt-newtab', className: 'tt-sr-only', hidden: true, text: 'Opens in a new tab.' }),
    ]
  );

  root.appendChild(launcher);
  root.appendChild(panel);

  function renderEmergency() {
    emergencyEl.textContent = '';
    const text = config.emergencyText;
    const at = config.number ? text.lastIndexOf(config.number) : -1;
    if (at < 0) {
      emergencyEl.textContent = text;
      return;
    }
    emergencyEl.appendChild(document.createTextNode(text.slice(0, at)));
    emergencyEl.appendChild(
      el('a', { className: 'tt-link tt-tel', href: telHref(config.number), text: config.number })
    );
    emergencyEl.appendChild(document.createTextNode(text.slice(at + config.number.length)));
  }
  renderEmergency();

  // ---------------------------------------------------------------- messages

  function scrollToEnd() {
    log.scrollTop = log.scrollHeight;
  }

  function clearLog() {
    while (log.lastChild && log.lastChild !== intro) {
      log.removeChild(log.lastChild);
    }
  }

  function renderMessage(message) {
    const isBot = message.from === 'bot';
    const bubble = el('div', { className: 'tt-msg ' + (isBot ? 'tt-bot' : 'tt-user') });
    if (message.text) {
      const body = el('p', { className: 'tt-text' });
      body.appendChild(isBot ? linkify(message.text) : document.createTextNode(message.text));
      bubble.appendChild(body);
    }
    if (isBot && message.choices && message.choices.length) {
      const group = el('div', { className: 'tt-choices', role: 'group', 'aria-label': 'Reply options' });
      const buttons = message.choices.map(function (choice, index) {
        const button = el('button', {
          type: 'button',
          className: 'tt-choice' + (message.chosen === index ? ' tt-chosen' : ''),
          disabled: Boolean(message.used),
          text: choice.title,
        });
        button.addEventListener('click', function () {
          if (message.used) return;
          message.used = true;
          message.chosen = index;
          for (const other of buttons) other.disabled = true;
          button.classList.add('tt-chosen');
          saveTranscript();
          input.focus();
          sendToBot(choice.payload, choice.title);
        });
        return button;
      });
      for (const button of buttons) group.appendChild(button);
      bubble.appendChild(group);
    }
    const row = el('div', { className: 'tt-row ' + (isBot ? 'tt-row-bot' : 'tt-row-user') }, [
      el('span', { className: 'tt-sr-only', text: isBot ? title + ' said:' : 'You said:' }),
      bubble,
    ]);
    log.appendChild(row);
    scrollToEnd();
  }

  function addMessage(message) {
    transcript.push(message);
    saveTranscript();
    renderMessage(message);
  }

  // A line from the widget itself (not stored): connection problems, "conversation cleared".
  function addNotice(text, kind) {
    const line = el('p', { className: 'tt-msg tt-notice' + (kind ? ' tt-' + kind : ''), text: text });
    log.appendChild(line);
    scrollToEnd();
  }

  function connectionErrorText() {
    return "Sorry, I can't connect right now. If a child is in danger, call " + config.number + '.';
  }

  // Shown once per connection problem, and again when someone sends a message during one.
  function showConnectionError(again) {
    hideTyping();
    if (outage && !again) return;
    outage = true;
    addNotice(connectionErrorText(), 'error');
  }

  function showTyping() {
    typing.hidden = false;
    scrollToEnd(); // the log just got shorter
    window.clearTimeout(typingTimer);
    typingTimer = window.setTimeout(function () {
      typing.hidden = true;
      inFlight.length = 0; // the person is asked to try again: do not also send it again later
      addNotice(
        "Sorry, I didn't get a reply. Please try again. If a child is in danger, call " +
          config.number + '.',
        'error'
      );
    }, REPLY_TIMEOUT_MS);
  }

  function hideTyping() {
    window.clearTimeout(typingTimer);
    typing.hidden = true;
  }

  function choicesFrom(list) {
    if (!Array.isArray(list)) return [];
    const choices = [];
    for (const item of list) {
      if (!item || typeof item !== 'object') continue;
      const choiceTitle = typeof item.title === 'string' ? item.title.trim() : '';
      if (!choiceTitle) continue;
      const payload = typeof item.payload === 'string' && item.payload ? item.payload : choiceTitle;
      choices.push({ title: choiceTitle, payload: payload });
    }
    return choices;
  }

  function onBotUttered(data) {
    if (!data || typeof data !== 'object') return;
    const text = typeof data.text === 'string' ? data.text.trim() : '';
    const choices = choicesFrom(data.buttons).concat(choicesFrom(data.quick_replies));
    hideTyping();
    // Turns run one after another, and a turn's replies come before its acknowledgement.
    if (inFlight.length) inFlight[0].replied = true;
    if (!text && !choices.length) return; // attachments and custom payloads are not shown
    const message = { from: 'bot', text: text };
    if (choices.length) message.choices = choices;
    addMessage(message);
  }

  // ---------------------------------------------------------------- Socket.IO

  function loadSocketIo(then) {
    if (ioState === 'ready' || ioState === 'failed') {
      if (then) then();
      return;
    }
    if (then) loadSocketIo.waiting.push(then);
    if (ioState === 'loading') return;
    ioState = 'loading';
    const hadIo = Object.prototype.hasOwnProperty.call(window, 'io');
    const previousIo = window.io;
    const tag = el('script', { src: server + '/widget/socket.io.min.js', async: true });
    tag.addEventListener('load', function () {
      if (typeof window.io === 'function') {
        ioFactory = window.io;
        ioState = 'ready';
        // Leave a page's own Socket.IO client in place if it had one.
        if (hadIo && previousIo !== ioFactory) window.io = previousIo;
      } else {
        ioState = 'failed';
      }
      finish();
    });
    tag.addEventListener('error', function () {
      ioState = 'failed';
      finish();
    });
    function finish() {
      const waiting = loadSocketIo.waiting.splice(0);
      for (const callback of waiting) callback();
    }
    (document.head || document.documentElement).appendChild(tag);
  }
  loadSocketIo.waiting = [];

  function connect() {
    if (socket || exiting) return;
    loadSocketIo(function () {
      if (socket || exiting) return;
      if (ioState !== 'ready') {
        showConnectionError();
        ioState = 'idle'; // try loading the client again next time
        return;
      }
      openSocket();
    });
  }

  function openSocket() {
    const url = new URL(server);
    const basePath = url.pathname.replace(/\/+$/, '');
    let s;
    try {
      s = ioFactory(url.origin, {
        path: basePath + '/socket.io',
        // On every request of the connection, so a load balancer can send them all to the one
        // server that holds it (deploy/nginx/talk-together.conf.template).
        query: { session_id: sessionId },
        // HTTP long-polling only: Rasa 3.6's Sanic cannot serve WebSockets on Python 3.11, and
        // polling passes every school proxy.
        transports: ['polling'],
        withCredentials: false,
        forceNew: true,
      });
    } catch (error) {
      showConnectionError();
      return;
    }
    socket = s;
    confirmed = false;
    watchConnection();
    s.on('connect', function () {
      if (s !== socket) return;
      confirmed = false;
      s.emit('session_request', { session_id: sessionId });
    });
    s.on('session_confirm', function () {
      if (s !== socket) return;
      confirmed = true;
      if (outage) addNotice('Connected now.');
      outage = false;
      window.clearTimeout(connectTimer);
      sendAgainUnanswered();
      flush();
    });
    s.on('bot_uttered', function (data) {
      if (s !== socket) return;
      onBotUttered(data);
    });
    s.on('connect_error', function () {
      if (s !== socket) return;
      showConnectionError();
    });
    s.on('disconnect', function () {
      if (s !== socket) return;
      confirmed = false;
      hideTyping();
      watchConnection();
    });
  }

  // Some failures make the client retry with no error event: if there is no confirmed
  // session in time, say so.
  function watchConnection() {
    window.clearTimeout(connectTimer);
    connectTimer = window.setTimeout(function () {
      if (socket && !confirmed) {
        showConnectionError();
      }
    }, CONNECT_TIMEOUT_MS);
  }

  function closeSocket() {
    const s = socket;
    socket = null;
    confirmed = false;
    outbox.length = 0;
    inFlight.length = 0;
    window.clearTimeout(connectTimer);
    if (s) {
      try {
        s.removeAllListeners();
        s.disconnect();
      } catch (error) {
        // Already closed.
      }
    }
  }

  function flush() {
    if (!socket || !confirmed) return;
    while (outbox.length) {
      const message = outbox.shift();
      inFlight.push(message);
      // The server acknowledges once the turn has run and been stored (python-socketio sends
      // the acknowledgement when Rasa's handler returns); a lost connection drops the callback.
      // Sent again after a lost connection under the same id: the server stores it once.
      const data = { message: message.payload, session_id: sessionId, metadata: { message_id: message.id } };
      socket.emit('user_uttered', data, function () {
        const at = inFlight.indexOf(message);
        if (at >= 0) inFlight.splice(at, 1);
      });
      showTyping();
    }
  }

  // After a lost connection: the turns that were neither acknowledged nor answered did not run
  // (or ran on a server that died before it could answer), so they go first on the new one.
  // One that was answered is dropped: the person saw its reply.
  function sendAgainUnanswered() {
    const unanswered = inFlight.filter(function (message) {
      return !message.replied;
    });
    inFlight.length = 0;
    outbox.unshift.apply(outbox, unanswered);
  }

  function sendToBot(payload, shownText) {
    addMessage({ from: 'user', text: shownText });
    outbox.push({ payload: payload, replied: false, id: uuid4().replace(/-/g, '') });
    if (outage && !confirmed) showConnectionError(true);
    if (socket) {
      flush();
    } else {
      connect();
    }
  }

  // ---------------------------------------------------------------- open, close, clear, exit

  function isOpen() {
    return !panel.hidden;
  }

  function openPanel(moveFocus) {
    panel.hidden = false;
    launcher.setAttribute('aria-expanded', 'true');
    root.classList.add('tt-is-open');
    storageSet(KEY_OPEN, '1');
    scrollToEnd();
    if (moveFocus) input.focus();
    connect();
  }

  function closePanel() {
    panel.hidden = true;
    launcher.setAttribute('aria-expanded', 'false');
    root.classList.remove('tt-is-open');
    storageSet(KEY_OPEN, '0');
    launcher.focus();
  }

  // Ask the server to delete the stored conversation at once ("delete my conversation").
  function deleteOnServer(id) {
    try {
      window.fetch(server + '/webhooks/rest/webhook', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ sender: id, message: '/delete_conversation' }),
        credentials: 'omit',
        keepalive: true,
      }).catch(function () {});
    } catch (error) {
      // Nothing to do: the conversation is deleted after the retention period anyway.
    }
  }

  function clearConversation() {
    deleteOnServer(sessionId);
    closeSocket();
    hideTyping();
    outage = false;
    sessionId = uuid4();
    storageSet(KEY_ID, sessionId);
    transcript = [];
    saveTranscript();
    clearLog();
    addNotice('Conversation deleted. Anything you type now starts a new conversation.');
    input.value = '';
    input.focus();
    connect();
  }

  function quickExit() {
    if (exiting) return;
    exiting = true;
    storageClear();
    window.clearTimeout(typingTimer);
    window.clearTimeout(connectTimer);
    const s = socket;
    socket = null;
    if (s) {
      try {
        s.removeAllListeners();
        s.disconnect();
      } catch (error) {
        // Leaving anyway.
      }
    }
    document.removeEventListener('keydown', onDocumentKeydown, true);
    if (root.parentNode) root.parentNode.removeChild(root);
    window.location.replace(exitUrl);
  }

  function onDocumentKeydown(event) {
    if ((event.key === 'Escape' || event.key === 'Esc') && !event.isComposing) {
      event.preventDefault();
      quickExit();
    }
  }

  // When the panel fills the screen, Tab and Shift+Tab stay inside it, so focus never lands
  // on page content hidden underneath.
  function onPanelKeydown(event) {
    if (event.key !== 'Tab' || !fillsScreen()) return;
    const focusable = Array.prototype.filter.call(
      panel.querySelectorAll('a[href], button:not([disabled]), input:not([disabled]), [tabindex="0"]'),
      function (node) {
        return node.getClientRects().length > 0;
      }
    );
    if (!focusable.length) return;
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  }

  function fillsScreen() {
    const rect = panel.getBoundingClientRect();
    return rect.width >= window.innerWidth - 2 || rect.height >= window.innerHeight - 2;
  }

  launcher.addEventListener('click', function () {
    if (isOpen()) closePanel();
    else openPanel(true);
  });
  launcher.addEventListener('pointerenter', function () {
    loadSocketIo();
  });
  launcher.addEventListener('focus', function () {
    loadSocketIo();
  });
  closeButton.addEventListener('click', closePanel);
  clearButton.addEventListener('click', clearConversation);
  exitButton.addEventListener('click', quickExit);
  panel.addEventListener('keydown', onPanelKeydown);
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    const text = input.value.trim().slice(0, MAX_MESSAGE_LENGTH);
    if (!text) {
      input.focus();
      return;
    }
    input.value = '';
    input.focus();
    sendToBot(text, text);
  });
  document.addEventListener('keydown', onDocumentKeydown, true);

  // ---------------------------------------------------------------- config and start

  function applyConfig(data) {
    if (!data || typeof data !== 'object') return;
    if (typeof data.emergency_number === 'string' && /^\+?[0-9][0-9 ()-]{0,19}$/.test(data.emergency_number.trim())) {
      config.number = data.emergency_number.trim();
    }
    if (typeof data.emergency_text === 'string' && data.emergency_text.trim() && data.emergency_text.length <= 200) {
      config.emergencyText = data.emergency_text.trim();
    } else if (config.number !== DEFAULT_NUMBER) {
      config.emergencyText = 'Child in danger now? Call ' + config.number;
    }
    if (Array.isArray(data.link_addresses)) {
      config.links = data.link_addresses
        .filter(function (a) {
          return typeof a === 'string' && a.trim().length > 2 && a.length <= 200;
        })
        .map(function (a) {
          return a.trim();
        })
        .sort(function (a, b) {
          return b.length - a.length;
        })
        .slice(0, 200);
    }
    if (typeof data.title === 'string' && data.title.trim() && data.title.length <= 80) {
      titleEl.textContent = data.title.trim();
    }
    if (typeof data.colour === 'string' && readableOnWhiteText(data.colour)) {
      // The school's colour for the header, launcher and buttons, which carry white text.
      root.style.setProperty('--tt-brand', data.colour);
      root.style.setProperty('--tt-brand-dark', data.colour);
    }
    renderEmergency();
  }

  // A colour white text can be read on (WCAG AA, 4.5:1); any other keeps the built-in one.
  function readableOnWhiteText(colour) {
    const match = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(colour.trim());
    if (!match) return false;
    const channels = match.slice(1).map(function (hex) {
      const c = parseInt(hex, 16) / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    const luminance = 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2];
    return 1.05 / (luminance + 0.05) >= 4.5;
  }

  function fetchConfig() {
    if (typeof window.fetch !== 'function') return Promise.resolve();
    const controller = typeof AbortController === 'function' ? new AbortController() : null;
    const timer = controller ? window.setTimeout(function () { controller.abort(); }, 5000) : 0;
    return window
      .fetch(server + '/widget/config.json', {
        credentials: 'omit',
        mode: 'cors',
        signal: controller ? controller.signal : undefined,
      })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(applyConfig)
      .catch(function () {
        // Keep the built-in emergency line.
      })
      .then(function () {
        window.clearTimeout(timer);
      });
  }

  // The widget shows once its stylesheet has loaded. If it cannot load (server down, or a
  // Content-Security-Policy that blocks it), the widget stays hidden rather than appearing
  // unstyled at the bottom of the page; the chat could not work then anyway.
  function loadStylesheet() {
    const link = el('link', { rel: 'stylesheet', href: server + '/widget.css', 'data-tt-widget': 'true' });
    link.addEventListener('load', function () {
      root.hidden = false;
    });
    (document.head || document.documentElement).appendChild(link);
  }

  function start() {
    loadStylesheet();
    document.body.appendChild(root);
    const configReady = fetchConfig();
    configReady.then(function () {
      if (exiting) return;
      for (const message of transcript) renderMessage(message);
      if (startOpen || storageGet(KEY_OPEN) === '1') openPanel(false);
    });
  }

  if (document.body) {
    start();
  } else {
    document.addEventListener('DOMContentLoaded', start, { once: true });
  }
})();
