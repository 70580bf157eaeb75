// tunelens page: choose/drop/paste a photo → POST /api/v1/recommend → render reading + songs.
// Plain JS, no build step. Every visible string is marked _("…"), pgettext("ctx", "…") or
// ngettext("…", "…", n): Babel extracts them into the gettext catalogues, and the server
// renders their translations into #tl-i18n (tunelens/web/services/page_texts.py).
(function () {
  "use strict";

  const TEXTS = JSON.parse(document.getElementById("tl-i18n").textContent);
  const MESSAGES = TEXTS.messages;
  const LABELS = TEXTS.labels;
  const CONFIG = JSON.parse(document.getElementById("tl-config").textContent);
  const LANG = CONFIG.lang || document.documentElement.lang || "en";
  const SPOTIFY_EMBED = "https://open.spotify.com/embed/track/";
  const has = (object, key) => Object.prototype.hasOwnProperty.call(object, key);

  /** `text` with its %(name)s placeholders filled in. */
  function interpolate(text, vars) {
    if (!vars) return text;
    return text.replace(/%\((\w+)\)s/g, (whole, name) => (has(vars, name) ? String(vars[name]) : whole));
  }

  /** The translation of `msgid` (English when the catalogue has none). */
  function _(msgid, vars) {
    return interpolate(has(MESSAGES, msgid) ? MESSAGES[msgid] : msgid, vars);
  }

  function pgettext(context, msgid, vars) {
    const key = context + "\u0004" + msgid;
    return interpolate(has(MESSAGES, key) ? MESSAGES[key] : msgid, vars);
  }

  const PLURALS = new Intl.PluralRules(LANG);
  /** The plural form for `n` by the language's CLDR category; %(count)s is `n` formatted. */
  function ngettext(singular, plural, n, vars) {
    const forms = MESSAGES[singular];
    const category = PLURALS.select(n);
    let text = n === 1 ? singular : plural;
    if (forms && has(forms, category)) text = forms[category];
    else if (forms && has(forms, "other")) text = forms.other;
    return interpolate(text, Object.assign({ count: integer(n), num: integer(n) }, vars || {}));
  }

  // numbers in the page's locale, with Latin digits like the server's (Babel) numbers
  const NUMBER_OPTIONS = { numberingSystem: "latn" };
  const INTEGER = new Intl.NumberFormat(LANG, NUMBER_OPTIONS);
  const DECIMAL = new Intl.NumberFormat(LANG, Object.assign({ minimumFractionDigits: 2, maximumFractionDigits: 2 }, NUMBER_OPTIONS));
  const PERCENT = new Intl.NumberFormat(LANG, Object.assign({ style: "percent", maximumFractionDigits: 0 }, NUMBER_OPTIONS));
  const ONE_DECIMAL = new Intl.NumberFormat(LANG, Object.assign({ maximumFractionDigits: 1 }, NUMBER_OPTIONS));

  function integer(n) {
    return INTEGER.format(n);
  }

  const $ = (id) => document.getElementById(id);
  const el = {
    form: $("analyze-form"),
    dropZone: $("drop-zone"),
    fileInput: $("file-input"),
    cameraInput: $("camera-input"),
    clearFile: $("clear-file"),
    preview: $("preview"),
    previewImg: $("preview-img"),
    previewName: $("preview-name"),
    context: $("context-input"),
    analyze: $("analyze-btn"),
    analyzeLabel: $("analyze-btn").querySelector(".label"),
    error: $("error"),
    songsError: $("songs-error"),
    results: $("results"),
    readingHeading: $("reading-heading"),
    notices: $("notices"),
    emotionBars: $("emotion-bars"),
    genreBars: $("genre-bars"),
    scenes: $("scenes"),
    colourText: $("colour-text"),
    vaPoint: $("va-point"),
    vaHalo: $("va-halo"),
    vaCaption: $("va-caption"),
    emotionMarks: $("emotion-marks"),
    songsHeading: $("songs-heading"),
    songList: $("song-list"),
    noMore: $("no-more"),
    showMore: $("show-more"),
    songTemplate: $("song-template"),
    themeToggle: $("theme-toggle"),
    heatmapInput: $("heatmap-input"),
    consentInput: $("consent-input"),
    uploadStatus: $("upload-status"),
    viewToggle: $("view-toggle"),
    viewPhoto: $("view-photo"),
    viewHeatmap: $("view-heatmap"),
    resultImg: $("result-img"),
    hotRegions: $("hot-regions"),
    explanationText: $("explanation-text"),
    commentaryBlock: $("commentary-block"),
    commentary: $("commentary"),
    commentaryNotice: $("commentary-notice"),
    regionSelect: $("region-select"),
    playlistGroups: $("playlist-groups"),
    playlistsError: $("playlists-error"),
    exportButtons: [$("export-m3u8"), $("export-jspf")],
    exportError: $("export-error"),
  };

  const state = {
    file: null,
    previewUrl: null,
    rec: null, // the last /api/v1/recommend answer
    shown: [], // ids on screen or shown before, never recommended again
    seed: null, // the track "more like this" was asked for (null: the photo's own list)
    busy: false,
  };

  // ---- theme ----------------------------------------------------------------------------

  function currentTheme() {
    return document.documentElement.getAttribute("data-theme") === "light" ? "light" : "dark";
  }

  function applyTheme(theme, remember) {
    document.documentElement.setAttribute("data-theme", theme);
    el.themeToggle.setAttribute("aria-pressed", theme === "light" ? "true" : "false");
    if (remember) {
      try {
        window.localStorage.setItem("tunelens-theme", theme);
      } catch (e) {
        /* private mode: the choice lasts for this page only */
      }
    }
  }

  // ---- language --------------------------------------------------------------------------
  // The selector reloads the page in the chosen language (the server renders every text and
  // <html lang dir>, and remembers the choice in a cookie); localStorage keeps it too, so a
  // browser whose cookie was cleared gets its language back on the next visit.

  const langForm = $("lang-form");
  const langSelect = $("lang-select");
  $("lang-apply").hidden = true; // with script, choosing a language applies it
  langSelect.addEventListener("change", () => {
    try {
      window.localStorage.setItem("tunelens-lang", langSelect.value);
    } catch (e) {
      /* private mode: the cookie still remembers it */
    }
    langForm.submit();
  });
  try {
    const stored = window.localStorage.getItem("tunelens-lang");
    if (CONFIG.lang_source === "param" || CONFIG.lang_source === "cookie") {
      window.localStorage.setItem("tunelens-lang", LANG);
    } else if (stored && stored !== LANG && CONFIG.languages.includes(stored)) {
      window.location.replace("?lang=" + encodeURIComponent(stored));
    }
  } catch (e) {
    /* private mode */
  }

  el.themeToggle.addEventListener("click", () => {
    applyTheme(currentTheme() === "light" ? "dark" : "light", true);
  });
  applyTheme(currentTheme(), false);
  if (window.matchMedia) {
    window.matchMedia("(prefers-color-scheme: light)").addEventListener("change", (event) => {
      let stored = null;
      try {
        stored = window.localStorage.getItem("tunelens-theme");
      } catch (e) {
        stored = null;
      }
      if (!stored) applyTheme(event.matches ? "light" : "dark", false);
    });
  }

  // ---- errors and busy state -------------------------------------------------------------

  function showError(message, where) {
    (where || el.error).textContent = message;
  }

  function clearError() {
    el.error.textContent = "";
    el.songsError.textContent = "";
  }

  function megabytes(bytes) {
    return ONE_DECIMAL.format(bytes / (1024 * 1024));
  }

  /** Plain words for the errors a listener can cause, by the API's stable error code. */
  const ERROR_TEXTS = {
    not_an_image: _("That file isn't a picture tunelens can read. Try a JPEG, PNG, WebP or GIF photo."),
    unsupported_media_type: _("That file isn't a picture tunelens can read. Try a JPEG, PNG, WebP or GIF photo."),
    unsupported_format: _("That picture format isn't supported. Please save it as JPEG or PNG and try again."),
    truncated: _("That picture looks damaged or cut short. Try another copy of it."),
    empty_file: _("That file is empty. Try another photo."),
    too_large: _("That photo is too big. Photos up to %(limit)s MB are accepted."),
    too_many_pixels: _("That picture has too many pixels to read safely. Try a smaller version of it."),
    too_small: _("That picture is too small to read. Try a bigger one."),
    context_too_long: _("The context text is too long. Keep it to a sentence or two."),
  };

  const PROVIDERS = { youtube: "YouTube", spotify: "Spotify" };

  const FEEDBACK = {
    like: {
      text: pgettext("feedback", "Like"),
      label: _("I like “%(title)s”"),
      done: _("Thanks — songs like this will come up more."),
    },
    dislike: {
      text: pgettext("feedback", "Dislike"),
      label: _("I dislike “%(title)s”"),
      done: _("Got it — this song (and, after a few dislikes, this artist) leaves your next results."),
    },
    not_interested: {
      text: pgettext("feedback", "Not for me"),
      label: _("“%(title)s” is not for me"),
      done: _("Got it — this song leaves your next results."),
    },
  };

  /** Plain words for an API error: the dictionary's text for its code, else the server's. */
  function messageFor(err) {
    if (err && err.network) return _("Can't reach tunelens. Check your connection and try again.");
    const code = err && err.code;
    if (err && err.status === 503) return _("tunelens cannot recommend right now: %(message)s", { message: err.message || "" });
    if (code && has(ERROR_TEXTS, code)) {
      return interpolate(ERROR_TEXTS[code], { limit: megabytes(CONFIG.max_image_bytes) });
    }
    return (err && err.message) || _("Something went wrong. Please try again.");
  }

  function setBusy(busy, button) {
    state.busy = busy;
    el.results.setAttribute("aria-busy", busy ? "true" : "false");
    for (const b of [el.analyze, el.showMore, ...el.songList.querySelectorAll(".more-like")]) {
      b.disabled = busy;
    }
    el.analyze.setAttribute("aria-busy", busy && button === el.analyze ? "true" : "false");
    el.analyzeLabel.textContent = busy && button === el.analyze ? _("Analyzing…") : _("Analyze & Recommend");
    if (button && button !== el.analyze) {
      button.setAttribute("aria-busy", busy ? "true" : "false");
      if (button === el.showMore) button.textContent = busy ? _("Loading…") : showMoreText();
    }
  }

  // ---- HTTP --------------------------------------------------------------------------------

  async function request(url, options) {
    let response;
    try {
      response = await fetch(url, Object.assign({ headers: { Accept: "application/json" } }, options));
    } catch (e) {
      throw { network: true };
    }
    let body = null;
    try {
      body = await response.json();
    } catch (e) {
      body = null;
    }
    if (!response.ok) {
      const error = (body && body.error) || {};
      throw { status: response.status, code: error.code, message: error.message };
    }
    return body;
  }

  function recommendForm(exclude, heatmap, consent) {
    const form = new FormData();
    form.append("image", state.file, state.file.name || _("pasted image") + ".png");
    form.append("top_k", String(CONFIG.top_k));
    form.append("lang", LANG);
    const context = el.context.value.trim();
    if (context) form.append("context", context);
    if (exclude.length) form.append("exclude", exclude.join(","));
    if (heatmap) form.append("heatmap", "true");
    if (consent) form.append("consent", "true");
    return form;
  }

  function postJson(url, body) {
    return request(url, {
      method: "POST",
      headers: { Accept: "application/json", "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
  }

  // ---- choosing a photo ---------------------------------------------------------------------

  function setFile(file) {
    clearError();
    if (!file) return;
    if (file.size > CONFIG.max_image_bytes) {
      showError(
        _("This file is %(size)s MB; photos up to %(limit)s MB are accepted.", {
          size: megabytes(file.size),
          limit: megabytes(CONFIG.max_image_bytes),
        }),
      );
      return;
    }
    state.file = file;
    if (state.previewUrl) URL.revokeObjectURL(state.previewUrl);
    state.previewUrl = null;
    const name = file.name || _("pasted image");
    if (file.type && file.type.startsWith("image/")) {
      state.previewUrl = URL.createObjectURL(file);
      el.previewImg.src = state.previewUrl;
      el.previewImg.alt = _("Your photo: %(name)s", { name: name });
      el.previewName.textContent = name;
    } else {
      el.previewImg.removeAttribute("src");
      el.previewImg.alt = "";
      el.previewName.textContent = _("“%(name)s” does not look like a picture; tunelens will check it.", { name: name });
    }
    el.preview.hidden = false;
    el.clearFile.hidden = false;
    el.dropZone.classList.add("has-file");
  }

  function clearFile() {
    state.file = null;
    if (state.previewUrl) URL.revokeObjectURL(state.previewUrl);
    state.previewUrl = null;
    el.previewImg.removeAttribute("src");
    el.preview.hidden = true;
    el.clearFile.hidden = true;
    el.dropZone.classList.remove("has-file");
    el.fileInput.value = "";
    el.cameraInput.value = "";
    el.fileInput.focus();
  }

  el.fileInput.addEventListener("change", () => setFile(el.fileInput.files[0]));
  el.cameraInput.addEventListener("change", () => setFile(el.cameraInput.files[0]));
  el.clearFile.addEventListener("click", clearFile);

  for (const type of ["dragenter", "dragover"]) {
    el.dropZone.addEventListener(type, (event) => {
      event.preventDefault();
      el.dropZone.classList.add("dragging");
    });
  }
  for (const type of ["dragleave", "dragend"]) {
    el.dropZone.addEventListener(type, () => el.dropZone.classList.remove("dragging"));
  }
  el.dropZone.addEventListener("drop", (event) => {
    event.preventDefault();
    el.dropZone.classList.remove("dragging");
    const files = event.dataTransfer && event.dataTransfer.files;
    if (files && files.length) setFile(files[0]);
  });
  // a photo dropped beside the zone must not navigate away from the page
  window.addEventListener("dragover", (event) => event.preventDefault());
  window.addEventListener("drop", (event) => event.preventDefault());

  document.addEventListener("paste", (event) => {
    const files = (event.clipboardData && event.clipboardData.files) || [];
    for (const file of files) {
      if (file.type.startsWith("image/")) {
        event.preventDefault();
        setFile(file);
        return;
      }
    }
  });

  // ---- rendering the reading ---------------------------------------------------------------

  function pct(p) {
    return PERCENT.format(p);
  }

  function signed(x) {
    return (x < 0 && Math.abs(x) >= 0.005 ? "−" : "+") + DECIMAL.format(Math.abs(x));
  }

  function label(kind, name) {
    const names = LABELS[kind] || {};
    return has(names, name) ? names[name] : name;
  }

  function showMoreText() {
    return ngettext("Show %(num)s more", "Show %(num)s more", CONFIG.top_k);
  }

  function renderBars(list, probs, kind, count) {
    list.replaceChildren();
    const entries = Object.entries(probs).sort((a, b) => b[1] - a[1]).slice(0, count);
    for (const [name, p] of entries) {
      const li = document.createElement("li");
      const nameEl = document.createElement("span");
      nameEl.className = "bar-name";
      nameEl.textContent = label(kind, name);
      const track = document.createElement("span");
      track.className = "bar-track";
      track.setAttribute("aria-hidden", "true");
      const fill = document.createElement("span");
      fill.className = "bar-fill";
      fill.style.setProperty("--w", Math.max(0, Math.min(100, p * 100)).toFixed(1) + "%");
      track.appendChild(fill);
      const value = document.createElement("span");
      value.className = "bar-value";
      value.textContent = pct(p);
      li.append(nameEl, track, value);
      list.appendChild(li);
    }
  }

  const SVG_NS = "http://www.w3.org/2000/svg";
  const CENTRE = 120;
  const RADIUS = 96;

  function circumplexXY(valence, arousal) {
    return [CENTRE + valence * RADIUS, CENTRE - arousal * RADIUS];
  }

  let emotionPositions = null;

  async function drawEmotionMarks() {
    if (emotionPositions) return;
    try {
      const vocab = await request("/api/v1/vocab/emotions", { method: "GET" });
      emotionPositions = vocab.terms;
    } catch (e) {
      emotionPositions = [];
    }
    el.emotionMarks.replaceChildren();
    for (const term of emotionPositions) {
      if (term.valence === null || term.arousal === null) continue;
      const [x, y] = circumplexXY(term.valence, term.arousal);
      const dot = document.createElementNS(SVG_NS, "circle");
      dot.setAttribute("class", "emotion-dot");
      dot.setAttribute("cx", x.toFixed(1));
      dot.setAttribute("cy", y.toFixed(1));
      dot.setAttribute("r", "2.5");
      const text = document.createElementNS(SVG_NS, "text");
      text.setAttribute("class", "emotion-mark");
      text.setAttribute("x", (x + (x > CENTRE ? -4 : 4)).toFixed(1));
      text.setAttribute("y", (y - 5).toFixed(1));
      text.setAttribute("text-anchor", x > CENTRE ? "end" : "start");
      text.textContent = label("emotion", term.name);
      el.emotionMarks.append(dot, text);
    }
  }

  function renderReading(rec) {
    const reading = rec.reading;
    el.notices.replaceChildren();
    const notices = [...rec.notices];
    if (reading.encoder.name === "colour" && !reading.encoder.fallback) {
      notices.unshift(_("Offline mode: this reading comes from colour and light only (no CLIP model is loaded)."));
    }
    for (const text of notices) {
      const p = document.createElement("p");
      p.className = "notice";
      p.textContent = text;
      el.notices.appendChild(p);
    }
    renderBars(el.emotionBars, reading.emotions, "emotion", 4);
    renderBars(el.genreBars, reading.genres, "genre", 3);

    const [x, y] = circumplexXY(reading.valence, reading.arousal);
    for (const dot of [el.vaPoint, el.vaHalo]) {
      dot.setAttribute("cx", x.toFixed(1));
      dot.setAttribute("cy", y.toFixed(1));
    }
    el.vaCaption.textContent = _("valence %(valence)s · arousal %(arousal)s", {
      valence: signed(reading.valence),
      arousal: signed(reading.arousal),
    });
    drawEmotionMarks();

    el.scenes.replaceChildren();
    if (reading.scenes.length) {
      for (const scene of reading.scenes) {
        const li = document.createElement("li");
        li.textContent = label("scene", scene.name) + " · " + pct(scene.score);
        el.scenes.appendChild(li);
      }
    } else {
      const li = document.createElement("li");
      li.className = "empty";
      li.textContent = _("No scene tags: the colour encoder reads colour and light only.");
      el.scenes.appendChild(li);
    }
    const c = reading.colour;
    el.colourText.textContent = _("brightness %(brightness)s · saturation %(saturation)s · warmth %(warmth)s · mostly %(hue)s", {
      brightness: DECIMAL.format(c.brightness),
      saturation: DECIMAL.format(c.saturation),
      warmth: DECIMAL.format(c.warmth),
      hue: label("hue", c.dominant_hue),
    });
  }

  // ---- rendering the explanation ------------------------------------------------------------

  function showView(which) {
    const exp = state.rec && state.rec.explanation;
    const heatmap = which === "heatmap" && exp && exp.heatmap;
    if (heatmap) {
      el.resultImg.src = exp.heatmap;
      const labels = exp.hot_regions.map((r) => r.label);
      el.resultImg.alt = labels.length
        ? _("Heatmap over your photo: red marks what the mood comes from most (%(regions)s)", { regions: labels.join("; ") })
        : _("Heatmap over your photo: no single region stands out");
    } else if (state.previewUrl) {
      el.resultImg.src = state.previewUrl;
      el.resultImg.alt = _("Your photo");
    } else {
      el.resultImg.removeAttribute("src");
      el.resultImg.alt = "";
    }
    el.viewPhoto.setAttribute("aria-pressed", heatmap ? "false" : "true");
    el.viewHeatmap.setAttribute("aria-pressed", heatmap ? "true" : "false");
  }

  function renderExplanation(rec) {
    const exp = rec.explanation;
    el.explanationText.textContent = exp ? exp.text : "";
    const hasHeatmap = Boolean(exp && exp.heatmap);
    el.viewToggle.hidden = !hasHeatmap;
    if (hasHeatmap) {
      const labels = exp.hot_regions.map((r) => r.label);
      el.hotRegions.textContent = labels.length
        ? _("Mattered most: %(regions)s", { regions: labels.join("; ") })
        : _("No single region stands out: the mood comes from the whole picture.");
    } else {
      el.hotRegions.textContent = "";
    }
    showView(hasHeatmap ? "heatmap" : "photo");
  }

  /** Fill in the LLM commentary when it arrives; the songs never wait for it. */
  async function loadCommentary(rec) {
    el.commentaryBlock.hidden = !CONFIG.commentary;
    el.commentaryNotice.hidden = true;
    el.commentaryNotice.textContent = "";
    if (!CONFIG.commentary || !rec.prediction_id) return;
    el.commentary.textContent = _("Asking the commentator…");
    el.commentary.setAttribute("aria-busy", "true");
    const url = CONFIG.commentary_url.replace("{id}", encodeURIComponent(rec.prediction_id));
    try {
      const answer = await request(url, { method: "GET" });
      if (state.rec !== rec) return; // a newer photo was analysed meanwhile
      el.commentary.textContent = answer.text;
      if (answer.notice) {
        el.commentaryNotice.textContent = answer.notice;
        el.commentaryNotice.hidden = false;
      }
    } catch (err) {
      if (state.rec !== rec) return;
      el.commentary.textContent = _("The commentary could not be loaded.");
    } finally {
      if (state.rec === rec) el.commentary.setAttribute("aria-busy", "false");
    }
  }

  // ---- regional playlists -------------------------------------------------------------------

  const playlistCache = {}; // region id → /api/v1/playlists answer

  function closePlaylistPlayers(except) {
    for (const li of el.playlistGroups.querySelectorAll(".playlist")) {
      if (li === except) continue;
      const player = li.querySelector(".player");
      const button = li.querySelector(".playlist-play");
      if (player && player.firstChild) {
        player.replaceChildren();
        button.setAttribute("aria-pressed", "false");
        button.textContent = pgettext("button", "Play");
        button.setAttribute("aria-label", _("Play the playlist “%(title)s”", { title: li.dataset.title }));
      }
    }
  }

  function playlistItem(entry) {
    const li = document.createElement("li");
    li.className = "playlist";
    li.dataset.title = entry.title;
    li.dataset.kind = entry.kind;
    const provider = PROVIDERS[entry.provider] || entry.provider;
    const name = document.createElement("span");
    name.className = "playlist-title";
    name.textContent = entry.title;
    const badge = document.createElement("span");
    badge.className = "playlist-provider muted";
    badge.textContent = provider;
    const actions = document.createElement("span");
    actions.className = "playlist-actions";
    li.append(name, badge, actions);
    const link = document.createElement("a");
    link.className = "button ghost";
    link.href = entry.url;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    if (entry.embed_url) {
      const player = document.createElement("div");
      player.className = "player";
      const play = document.createElement("button");
      play.type = "button";
      play.className = "secondary playlist-play";
      play.textContent = pgettext("button", "Play");
      play.setAttribute("aria-pressed", "false");
      play.setAttribute("aria-label", _("Play the playlist “%(title)s”", { title: entry.title }));
      play.addEventListener("click", () => {
        if (player.firstChild) {
          closePlaylistPlayers(null);
          return;
        }
        closePlaylistPlayers(li);
        const frame = document.createElement("iframe");
        frame.src = entry.embed_url;
        frame.title = _("%(provider)s playlist: “%(title)s”", { provider: provider, title: entry.title });
        frame.loading = "lazy";
        frame.allow = "autoplay; clipboard-write; encrypted-media; fullscreen; picture-in-picture";
        frame.referrerPolicy = "strict-origin-when-cross-origin";
        player.appendChild(frame);
        play.setAttribute("aria-pressed", "true");
        play.textContent = _("Close player");
        play.setAttribute("aria-label", _("Close the player for “%(title)s”", { title: entry.title }));
      });
      link.textContent = _("Open");
      link.setAttribute("aria-label", _("Open “%(title)s” on %(provider)s (new tab)", { title: entry.title, provider: provider }));
      actions.append(play, link);
      li.appendChild(player);
    } else {
      link.textContent = _("Search on %(provider)s", { provider: provider });
      link.setAttribute("aria-label", _("Search %(provider)s for “%(title)s” (new tab)", { title: entry.title, provider: provider }));
      actions.append(link);
    }
    return li;
  }

  /** The playlists of the chosen region for the photo's top vibe genre and its mood. */
  async function renderPlaylists(rec) {
    if (!el.regionSelect || !rec) return;
    const region = el.regionSelect.value;
    el.playlistsError.textContent = "";
    let answer = playlistCache[region];
    try {
      if (!answer) {
        answer = await request(CONFIG.playlists_url + "?region=" + encodeURIComponent(region) + "&lang=" + encodeURIComponent(LANG), {
          method: "GET",
        });
        playlistCache[region] = answer;
      }
    } catch (err) {
      showError(messageFor(err), el.playlistsError);
      return;
    }
    if (state.rec !== rec || el.regionSelect.value !== region) return;
    const genres = Object.entries(rec.reading.genres).sort((a, b) => b[1] - a[1]).map((g) => g[0]);
    const genre = genres.find((g) => answer.genres.includes(g));
    const mood = rec.explanation && rec.explanation.mood;
    const wanted = answer.groups.filter(
      (g) => (g.kind === "genre" && g.name === genre) || (g.kind === "mood" && g.name === mood),
    );
    el.playlistGroups.replaceChildren();
    for (const group of wanted) {
      const block = document.createElement("div");
      block.className = "playlist-group";
      block.dataset.kind = group.kind;
      block.dataset.name = group.name;
      const heading = document.createElement("h3");
      const name = label(group.kind, group.name);
      heading.textContent =
        group.kind === "genre" ? _("Vibe: %(name)s", { name: name }) : _("Mood: %(name)s", { name: name });
      const list = document.createElement("ul");
      list.className = "playlist-list";
      for (const entry of group.entries) list.appendChild(playlistItem(entry));
      block.append(heading, list);
      el.playlistGroups.appendChild(block);
    }
    if (!wanted.length) {
      const p = document.createElement("p");
      p.className = "muted";
      p.textContent = _("No playlists for this region yet.");
      el.playlistGroups.appendChild(p);
    }
  }

  if (el.regionSelect) {
    try {
      const saved = window.localStorage.getItem("tunelens-region");
      if (saved && [...el.regionSelect.options].some((o) => o.value === saved)) {
        el.regionSelect.value = saved;
      }
    } catch (e) {
      /* private mode */
    }
    el.regionSelect.addEventListener("change", () => {
      try {
        window.localStorage.setItem("tunelens-region", el.regionSelect.value);
      } catch (e) {
        /* private mode */
      }
      renderPlaylists(state.rec);
    });
  }

  el.viewPhoto.addEventListener("click", () => showView("photo"));
  el.viewHeatmap.addEventListener("click", () => showView("heatmap"));

  // ---- rendering songs -----------------------------------------------------------------------

  function closePlayers(except) {
    for (const li of el.songList.querySelectorAll(".song")) {
      if (li === except) continue;
      const player = li.querySelector(".player");
      if (player.firstChild) {
        player.replaceChildren();
        setPlayButton(li.querySelector(".play"), li.dataset.title, li.dataset.artist, false);
      }
    }
  }

  function setPlayButton(button, title, artist, playing) {
    button.textContent = playing ? _("Close player") : pgettext("button", "Play");
    button.setAttribute("aria-pressed", playing ? "true" : "false");
    button.setAttribute(
      "aria-label",
      playing ? _("Close the player for “%(title)s”", { title: title }) : _("Play “%(title)s” by %(artist)s", { title: title, artist: artist }),
    );
  }

  function togglePlayer(li, item) {
    const player = li.querySelector(".player");
    const button = li.querySelector(".play");
    const track = item.track;
    if (player.firstChild) {
      player.replaceChildren();
      setPlayButton(button, track.title, track.artist, false);
      return;
    }
    closePlayers(li);
    if (!li.dataset.played) {
      li.dataset.played = "1";
      sendFeedback(li, item, "played", null); // engagement, recorded once per song shown
    }
    const frame = document.createElement("iframe");
    frame.src = SPOTIFY_EMBED + encodeURIComponent(track.id);
    frame.title = _("Spotify player: “%(title)s” by %(artist)s", { title: track.title, artist: track.artist });
    frame.loading = "lazy";
    frame.allow = "autoplay; clipboard-write; encrypted-media; fullscreen; picture-in-picture";
    player.appendChild(frame);
    setPlayButton(button, track.title, track.artist, true);
  }

  /** Record like / dislike / not interested / played for one song of the current answer. */
  async function sendFeedback(li, item, kind, button) {
    const status = li.querySelector(".feedback-status");
    const body = { track_id: item.track.id, kind: kind };
    if (li.dataset.predictionId) body.prediction_id = li.dataset.predictionId;
    try {
      await postJson(CONFIG.feedback_url, body);
    } catch (err) {
      if (kind === "played") return; // a lost play count is not worth an error message
      const message = err && err.network ? _("Can't reach tunelens. Check your connection and try again.") : (err && err.message) || _("Something went wrong. Please try again.");
      status.textContent = _("Your feedback could not be saved: %(message)s", { message: message });
      return;
    }
    if (kind === "played") return;
    for (const other of li.querySelectorAll(".feedback")) {
      other.setAttribute("aria-pressed", other === button ? "true" : "false");
    }
    li.classList.toggle("dismissed", kind !== "like");
    li.dataset.feedback = kind;
    status.textContent = FEEDBACK[kind].done;
  }

  function renderUpload(upload) {
    const box = el.uploadStatus;
    box.textContent = "";
    box.hidden = true;
    if (!upload || upload.status === "declined") return;
    const sha = upload.sha256 ? upload.sha256.slice(0, 12) + "…" : "";
    if (upload.status === "stored") box.textContent = _("Your photo was kept without its location and camera details (fingerprint %(sha)s). Ask the operator to delete it at any time.", { sha: sha });
    else if (upload.status === "pending") box.textContent = _("Your photo will be kept without its location and camera details as soon as storage is reachable (fingerprint %(sha)s).", { sha: sha });
    else box.textContent = _("Your photo was not kept: %(message)s", { message: upload.message || "" });
    box.title = upload.sha256 || "";
    box.hidden = false;
  }

  function songItem(item, predictionId) {
    const track = item.track;
    const li = el.songTemplate.content.firstElementChild.cloneNode(true);
    li.dataset.trackId = track.id;
    // the answer that showed this song ("more like this" songs belong to the photo's answer)
    li.dataset.predictionId = predictionId || (state.rec && state.rec.prediction_id) || "";
    li.dataset.title = track.title;
    li.dataset.artist = track.artist;
    // titles and artists are shown as written, each isolated (<bdi>) so a Latin title keeps
    // its order inside right-to-left text and an Arabic one inside left-to-right text
    li.querySelector(".song-title-text").textContent = track.title;
    li.querySelector(".song-artist-text").textContent = track.artist;
    const genre = [track.genre, track.subgenre].filter(Boolean).join(" · ");
    li.querySelector(".song-genre").textContent = genre;
    li.querySelector(".song-score").textContent =
      (genre ? "· " : "") + _("score %(score)s", { score: DECIMAL.format(item.score) });
    const reasons = li.querySelector(".song-reasons");
    reasons.setAttribute("aria-label", _("Why this song"));
    for (const reason of item.reasons) {
      const r = document.createElement("li");
      r.textContent = reason;
      reasons.appendChild(r);
    }
    const links = track.links || {};
    const play = li.querySelector(".play");
    const spotify = li.querySelector(".link-spotify");
    if (links.spotify) {
      setPlayButton(play, track.title, track.artist, false);
      play.addEventListener("click", () => togglePlayer(li, item));
      spotify.href = links.spotify;
      spotify.textContent = PROVIDERS.spotify;
      spotify.setAttribute("aria-label", _("Open “%(title)s” on Spotify (new tab)", { title: track.title }));
    } else {
      play.remove();
      spotify.remove();
    }
    const youtube = li.querySelector(".link-youtube");
    if (links.youtube_search) {
      youtube.href = links.youtube_search;
      youtube.textContent = PROVIDERS.youtube;
      youtube.setAttribute("aria-label", _("Search YouTube for “%(title)s” (new tab)", { title: track.title }));
    } else {
      youtube.remove();
    }
    const more = li.querySelector(".more-like");
    more.textContent = _("More like this");
    more.setAttribute("aria-label", _("More songs like “%(title)s”", { title: track.title }));
    more.addEventListener("click", () => moreLike(item, more));
    const group = li.querySelector(".feedback-actions");
    group.setAttribute("aria-label", _("Your opinion of “%(title)s”", { title: track.title }));
    for (const button of li.querySelectorAll(".feedback")) {
      const kind = button.dataset.kind;
      button.textContent = FEEDBACK[kind].text;
      button.setAttribute("aria-label", interpolate(FEEDBACK[kind].label, { title: track.title }));
      button.addEventListener("click", () => sendFeedback(li, item, kind, button));
    }
    return li;
  }

  function renderSongs(tracks, append, predictionId) {
    if (!append) el.songList.replaceChildren();
    const first = el.songList.children.length;
    for (const item of tracks) {
      el.songList.appendChild(songItem(item, predictionId));
      if (!state.shown.includes(item.track.id)) state.shown.push(item.track.id);
    }
    el.noMore.hidden = tracks.length > 0;
    el.showMore.hidden = tracks.length === 0;
    return el.songList.children[first] || null;
  }

  // ---- actions -------------------------------------------------------------------------------

  async function analyze() {
    if (state.busy) return;
    clearError();
    if (!state.file) {
      showError(_("Choose, drop or paste a photo first."));
      el.fileInput.focus();
      return;
    }
    setBusy(true, el.analyze);
    try {
      const rec = await request(CONFIG.recommend_url, {
        method: "POST",
        body: recommendForm([], el.heatmapInput.checked, el.consentInput.checked),
      });
      state.rec = rec;
      state.shown = [];
      state.seed = null;
      renderReading(rec);
      renderUpload(rec.upload);
      renderExplanation(rec);
      loadCommentary(rec);
      renderPlaylists(rec);
      el.songsHeading.textContent = _("Songs for this photo");
      renderSongs(rec.tracks, false, rec.prediction_id);
      el.results.hidden = false;
      setBusy(false, el.analyze);
      el.readingHeading.focus();
    } catch (err) {
      setBusy(false, el.analyze);
      showError(messageFor(err));
      el.analyze.focus();
    }
  }

  async function moreLike(item, button) {
    if (state.busy || !state.rec) return;
    clearError();
    setBusy(true, button);
    try {
      const answer = await postJson(CONFIG.similar_url, {
        track_id: item.track.id,
        reading: state.rec.reading,
        target: state.rec.target,
        exclude: [...state.shown, item.track.id],
        top_k: CONFIG.top_k,
        lang: LANG,
      });
      state.seed = item.track;
      el.songsHeading.textContent = _("More like “%(title)s”", { title: item.track.title });
      renderSongs(answer.tracks, false);
      setBusy(false, button);
      el.songsHeading.focus();
    } catch (err) {
      setBusy(false, button);
      showError(messageFor(err), el.songsError);
    }
  }

  async function showMore() {
    if (state.busy || !state.rec) return;
    clearError();
    setBusy(true, el.showMore);
    try {
      let tracks;
      let predictionId = null;
      if (state.seed) {
        const answer = await postJson(CONFIG.similar_url, {
          track_id: state.seed.id,
          reading: state.rec.reading,
          target: state.rec.target,
          exclude: state.shown,
          top_k: CONFIG.top_k,
          lang: LANG,
        });
        tracks = answer.tracks;
      } else {
        const rec = await request(CONFIG.recommend_url, {
          method: "POST",
          body: recommendForm(state.shown, false, false),
        });
        tracks = rec.tracks;
        predictionId = rec.prediction_id;
      }
      const first = renderSongs(tracks, true, predictionId);
      setBusy(false, el.showMore);
      if (first) first.querySelector(".song-title").focus();
      else el.noMore.focus();
    } catch (err) {
      setBusy(false, el.showMore);
      showError(messageFor(err), el.songsError);
    }
  }

  /** The songs on screen as an M3U8 or JSPF file, saved through a temporary blob link. */
  async function downloadPlaylist(format) {
    el.exportError.textContent = "";
    const ids = [...el.songList.querySelectorAll("li.song")].map((li) => li.dataset.trackId);
    if (!ids.length) return;
    const name = (state.file && state.file.name) || _("pasted image");
    let response;
    try {
      response = await fetch(CONFIG.export_url + "?format=" + encodeURIComponent(format), {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ track_ids: ids, title: _("tunelens — %(name)s", { name: name }) }),
      });
    } catch (e) {
      showError(_("Can't reach tunelens. Check your connection and try again."), el.exportError);
      return;
    }
    if (!response.ok) {
      let error = {};
      try {
        error = (await response.json()).error || {};
      } catch (e) {
        error = {};
      }
      showError(messageFor({ status: response.status, code: error.code, message: error.message }), el.exportError);
      return;
    }
    const url = URL.createObjectURL(await response.blob());
    const link = document.createElement("a");
    link.href = url;
    link.download = "tunelens-playlist." + format;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  for (const button of el.exportButtons) {
    button.addEventListener("click", () => downloadPlaylist(button.dataset.format));
  }

  el.form.addEventListener("submit", (event) => {
    event.preventDefault();
    analyze();
  });
  el.showMore.addEventListener("click", showMore);
})();
