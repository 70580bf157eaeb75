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
    themeLabel: $("theme-label"),
    heatmapInput: $("heatmap-input"),
    consentInput: $("consent-input"),
    uploadStatus: $("upload-status"),
    uploadText: $("upload-text"),
    shaRow: $("sha-row"),
    uploadSha: $("upload-sha"),
    copySha: $("copy-sha"),
    deleteUpload: $("delete-upload"),
    uploadActionStatus: $("upload-action-status"),
    heatmapLegend: $("heatmap-legend"),
    songsBack: $("songs-back"),
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
    rec: null, // the photo's /api/v1/recommend answer (reading, target, explanation)
    // the photo's songs: one batch per answer ("Show more" adds one), each ranked by score
    photo: { batches: [], exhausted: false },
    // "more like this": { seed, batches, exhausted, request } while shown, else null
    similar: null,
    shown: [], // ids on screen or shown before, never recommended again
    feedback: {}, // track id → the opinion given on this page (like, dislike, not_interested)
    upload: null, // what happened to the photo (the answer's `upload`; status "deleted" after)
    busy: false,
  };

  // ---- theme ----------------------------------------------------------------------------

  function currentTheme() {
    return document.documentElement.getAttribute("data-theme") === "light" ? "light" : "dark";
  }

  function applyTheme(theme, remember) {
    document.documentElement.setAttribute("data-theme", theme);
    // the button says what it does, which is always the other theme
    el.themeLabel.textContent = theme === "light" ? _("Switch to dark theme") : _("Switch to light theme");
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
  langSelect.addEventListener("change", async () => {
    try {
      window.localStorage.setItem("tunelens-lang", langSelect.value);
    } catch (e) {
      /* private mode: the cookie still remembers it */
    }
    await keepForLanguageSwitch();
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

  // ---- errors and busy state -------------------------------------------------------------

  function showError(message, where) {
    (where || el.error).textContent = message;
  }

  /** Scroll `target` into view and move focus to it, so the result of a click is seen (and
   * read out) however far down the page it lands. */
  function reveal(target, block) {
    if (!target) return;
    if (!target.hasAttribute("tabindex") && !/^(A|BUTTON|INPUT|SELECT|TEXTAREA)$/.test(target.tagName)) {
      target.setAttribute("tabindex", "-1");
    }
    target.scrollIntoView({ block: block || "start" });
    target.focus({ preventScroll: true });
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
    // the server's own failures come as a short line in the page's language (the reason is
    // the operator's); say something even when there is none
    if (err && err.status >= 500) return err.message || _("Something went wrong. Please try again.");
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

  /** The answer's notices: short lines in the page's language (the server words them by
   * their stable codes), each coded one with a link to what it means. */
  function renderNotices(rec) {
    el.notices.replaceChildren();
    const codes = rec.notice_codes || [];
    (rec.notices || []).forEach((text, i) => {
      const p = document.createElement("p");
      p.className = "notice";
      p.textContent = text;
      const help = i < codes.length && CONFIG.notice_help[codes[i]];
      if (help) {
        const link = document.createElement("a");
        link.href = help;
        link.textContent = _("What does this mean?");
        p.append(" ", link);
      }
      el.notices.appendChild(p);
    });
  }

  /** The vibe over the catalogue's genres (the genres the songs came from) when the answer
   * has one, else the picture's own vibe genres. */
  function vibeOf(rec) {
    const folded = rec.target && rec.target.genres;
    return folded && Object.keys(folded).length ? folded : rec.reading.genres;
  }

  function renderReading(rec) {
    const reading = rec.reading;
    renderNotices(rec);
    renderBars(el.emotionBars, reading.emotions, "emotion", 4);
    renderBars(el.genreBars, vibeOf(rec), "genre", 3);

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
    el.heatmapLegend.hidden = !heatmap;
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
      if (answer.source === "llm") {
        el.commentary.textContent = answer.text;
      } else {
        // the model did not answer: its stand-in is the explanation already shown above, so
        // say so in one line instead of repeating it
        el.commentary.textContent = "";
        el.commentaryNotice.textContent = _("The commentary is unavailable right now; the explanation above is tunelens's own.");
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
    const genres = Object.entries(vibeOf(rec)).sort((a, b) => b[1] - a[1]).map((g) => g[0]);
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
      status.textContent = _("Your feedback could not be saved: %(message)s", { message: messageFor(err) });
      return;
    }
    if (kind === "played") return;
    state.feedback[item.track.id] = kind;
    showOpinion(li, kind);
    status.textContent = FEEDBACK[kind].done;
  }

  /** A song's buttons and look as the listener's opinion of it says (kept across re-renders). */
  function showOpinion(li, kind) {
    for (const other of li.querySelectorAll(".feedback")) {
      other.setAttribute("aria-pressed", other.dataset.kind === kind ? "true" : "false");
    }
    li.classList.toggle("dismissed", Boolean(kind) && kind !== "like");
    if (kind) li.dataset.feedback = kind;
  }

  // ---- the kept photo: its whole fingerprint, copy, delete -------------------------------------

  function renderUpload(upload) {
    const box = el.uploadStatus;
    el.uploadActionStatus.textContent = "";
    box.hidden = true;
    el.shaRow.hidden = true;
    if (!upload || upload.status === "declined") return;
    let text;
    if (upload.status === "stored") text = _("Your photo was kept without its location and camera details. You can delete it here at any time, or ask the operator to, quoting its fingerprint.");
    else if (upload.status === "pending") text = _("Your photo will be kept without its location and camera details as soon as storage is reachable. You can delete it here at any time.");
    else if (upload.status === "deleted") text = _("Your photo was deleted from tunelens.");
    else text = _("Your photo was not kept: storage is unavailable right now.");
    el.uploadText.textContent = text;
    if ((upload.status === "stored" || upload.status === "pending") && upload.sha256) {
      el.uploadSha.textContent = upload.sha256; // all 64 digits: what deletion needs
      el.deleteUpload.disabled = false;
      el.shaRow.hidden = false;
    }
    box.hidden = false;
  }

  async function copyFingerprint() {
    const value = el.uploadSha.textContent;
    let copied = false;
    try {
      await navigator.clipboard.writeText(value);
      copied = true;
    } catch (e) {
      // no clipboard access (plain http, or refused): select it for the listener to copy
      window.getSelection().selectAllChildren(el.uploadSha);
      try {
        copied = document.execCommand("copy");
      } catch (e2) {
        copied = false;
      }
    }
    el.uploadActionStatus.textContent = copied ? _("Fingerprint copied.") : _("The fingerprint is selected: copy it with Ctrl+C (⌘C).");
  }

  async function deleteKeptPhoto() {
    const upload = state.upload;
    if (!upload || !upload.sha256) return;
    if (!window.confirm(_("Delete your photo from tunelens? This cannot be undone."))) return;
    el.deleteUpload.disabled = true;
    try {
      await request(CONFIG.uploads_url.replace("{sha256}", encodeURIComponent(upload.sha256)), { method: "DELETE" });
    } catch (err) {
      el.deleteUpload.disabled = false;
      el.uploadActionStatus.textContent = _("Your photo could not be deleted: %(message)s", { message: messageFor(err) });
      return;
    }
    state.upload = Object.assign({}, upload, { status: "deleted", kept: false });
    renderUpload(state.upload);
    reveal(el.uploadText, "center");
  }

  el.copySha.addEventListener("click", copyFingerprint);
  el.deleteUpload.addEventListener("click", deleteKeptPhoto);

  // ---- songs -----------------------------------------------------------------------------------

  function songItem(item, predictionId) {
    const track = item.track;
    const li = el.songTemplate.content.firstElementChild.cloneNode(true);
    li.dataset.trackId = track.id;
    // the answer that showed this song ("more like this" songs belong to the photo's answer)
    li.dataset.predictionId = predictionId || (state.rec && state.rec.prediction_id) || "";
    li.dataset.title = track.title;
    li.dataset.artist = track.artist;
    li.dataset.score = String(item.score);
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
    showOpinion(li, state.feedback[track.id]);
    return li;
  }

  /** The list on screen: "more like this" while it is open, else the photo's own songs. */
  function currentView() {
    return state.similar || state.photo;
  }

  /** Draw the current list, one batch per answer. Each batch is ranked by its own scores
   * (numbered from 1, under a "More songs" divider), so a rank always follows its score.
   * Returns the first song of the last batch. */
  function renderSongList() {
    const view = currentView();
    el.songList.replaceChildren();
    let firstOfLast = null;
    view.batches.forEach((batch, b) => {
      if (b > 0) {
        const divider = document.createElement("li");
        divider.className = "batch-divider";
        divider.setAttribute("role", "separator");
        divider.textContent = _("More songs");
        el.songList.appendChild(divider);
      }
      batch.tracks.forEach((item, i) => {
        const li = songItem(item, batch.prediction_id);
        li.value = i + 1;
        if (i === 0) {
          if (b > 0) li.classList.add("batch-start");
          firstOfLast = li;
        }
        el.songList.appendChild(li);
      });
    });
    el.songsHeading.textContent = state.similar
      ? _("More like “%(title)s”", { title: state.similar.seed.title })
      : _("Songs for this photo");
    el.songsBack.hidden = !state.similar;
    el.noMore.hidden = !view.exhausted;
    el.showMore.hidden = view.exhausted;
    return firstOfLast;
  }

  /** Add one answer's songs to `view` (an empty answer means there are no more). */
  function addBatch(view, tracks, predictionId) {
    for (const item of tracks) {
      if (!state.shown.includes(item.track.id)) state.shown.push(item.track.id);
    }
    if (tracks.length) view.batches.push({ prediction_id: predictionId || null, tracks: tracks });
    view.exhausted = tracks.length === 0;
  }

  function similarRequest(seedId, exclude) {
    return {
      track_id: seedId,
      reading: state.rec.reading,
      target: state.rec.target,
      exclude: exclude,
      top_k: CONFIG.top_k,
      lang: LANG,
    };
  }

  /** The reading, explanation, photo status, playlists and songs of the kept answer. */
  function renderAnswer(rec) {
    renderReading(rec);
    renderUpload(state.upload);
    renderExplanation(rec);
    renderPlaylists(rec);
    renderSongList();
    el.results.hidden = false;
  }

  // ---- actions -------------------------------------------------------------------------------

  async function analyze() {
    if (state.busy) return;
    clearError();
    if (!state.file) {
      showError(_("Choose, drop or paste a photo first."));
      reveal(el.error, "center");
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
      state.feedback = {};
      state.similar = null;
      state.photo = { batches: [], exhausted: false };
      state.upload = rec.upload || null;
      addBatch(state.photo, rec.tracks, rec.prediction_id);
      renderAnswer(rec);
      loadCommentary(rec);
      setBusy(false, el.analyze);
      reveal(el.readingHeading);
    } catch (err) {
      setBusy(false, el.analyze);
      showError(messageFor(err));
      reveal(el.error, "center");
    }
  }

  async function moreLike(item, button) {
    if (state.busy || !state.rec) return;
    clearError();
    setBusy(true, button);
    try {
      const body = similarRequest(item.track.id, [...state.shown, item.track.id]);
      const answer = await postJson(CONFIG.similar_url, body);
      state.similar = { seed: item.track, batches: [], exhausted: false, request: body };
      addBatch(state.similar, answer.tracks, null);
      renderSongList();
      setBusy(false, button);
      reveal(el.songsHeading);
    } catch (err) {
      setBusy(false, button);
      showError(messageFor(err), el.songsError);
      reveal(el.songsError, "center");
    }
  }

  /** Leave "more like this" for the photo's own songs, as they were. */
  function backToPhotoSongs() {
    if (state.busy || !state.similar) return;
    clearError();
    state.similar = null;
    renderSongList();
    reveal(el.songsHeading);
  }

  async function showMore() {
    if (state.busy || !state.rec) return;
    clearError();
    setBusy(true, el.showMore);
    const view = currentView();
    try {
      if (state.similar) {
        const answer = await postJson(CONFIG.similar_url, similarRequest(state.similar.seed.id, state.shown));
        addBatch(view, answer.tracks, null);
      } else {
        const rec = await request(CONFIG.recommend_url, {
          method: "POST",
          body: recommendForm(state.shown, false, false),
        });
        addBatch(view, rec.tracks, rec.prediction_id);
      }
      const first = renderSongList();
      setBusy(false, el.showMore);
      if (view.exhausted || !first) reveal(el.noMore, "center");
      else reveal(first.querySelector(".song-title"), "center");
    } catch (err) {
      setBusy(false, el.showMore);
      showError(messageFor(err), el.songsError);
      reveal(el.songsError, "center");
    }
  }

  el.songsBack.addEventListener("click", backToPhotoSongs);

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

  // ---- keeping the answer across a language switch ---------------------------------------------
  // Choosing a language reloads the page, which the server renders in it. Before leaving, the
  // photo goes to IndexedDB and the answer, the lists and the listener's opinions to
  // sessionStorage; the new page shows them at once and asks the server for the same songs'
  // words in the new language (GET /api/v1/predictions/{id}?lang=…).

  const KEEP_KEY = "tunelens-keep";
  const KEEP_DB = "tunelens";
  const KEEP_STORE = "kept";

  function keptPhotos(mode, action) {
    return new Promise((resolve, reject) => {
      const open = window.indexedDB.open(KEEP_DB, 1);
      open.onupgradeneeded = () => open.result.createObjectStore(KEEP_STORE);
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        const db = open.result;
        const tx = db.transaction(KEEP_STORE, mode);
        const result = action(tx.objectStore(KEEP_STORE));
        tx.oncomplete = () => {
          db.close();
          resolve(result && result.result);
        };
        tx.onerror = () => {
          db.close();
          reject(tx.error);
        };
      };
    });
  }

  /** Keep what is on screen for the page that comes next (give up after a second: the switch
   * must never hang on storage). */
  async function keepForLanguageSwitch() {
    if (!state.rec || !state.file) return;
    const snapshot = {
      rec: state.rec,
      photo: state.photo,
      similar: state.similar,
      shown: state.shown,
      feedback: state.feedback,
      upload: state.upload,
      context: el.context.value,
      heatmap: el.heatmapInput.checked,
      consent: el.consentInput.checked,
      view: el.viewHeatmap.getAttribute("aria-pressed") === "true" ? "heatmap" : "photo",
    };
    const saved = keptPhotos("readwrite", (store) => store.put(state.file, "photo")).then(
      () => true,
      () => false,
    );
    const timeout = new Promise((resolve) => setTimeout(() => resolve(false), 1000));
    if (!(await Promise.race([saved, timeout]))) return;
    try {
      window.sessionStorage.setItem(KEEP_KEY, JSON.stringify(snapshot));
    } catch (e) {
      // too big for sessionStorage: the heatmap overlay is the bulk, and can be asked again
      if (snapshot.rec.explanation) snapshot.rec = Object.assign({}, snapshot.rec, { explanation: Object.assign({}, snapshot.rec.explanation, { heatmap: null }) });
      try {
        window.sessionStorage.setItem(KEEP_KEY, JSON.stringify(snapshot));
      } catch (e2) {
        /* nothing kept: the new page starts empty */
      }
    }
  }

  /** One kept answer's words in the page's language: reasons by song, the explanation's text
   * and regions, the names and the notices. */
  async function reworded(predictionId) {
    const url = CONFIG.predictions_url.replace("{id}", encodeURIComponent(predictionId));
    return request(url + "?lang=" + encodeURIComponent(LANG), { method: "GET" });
  }

  function withReasons(tracks, worded) {
    const byId = {};
    for (const item of worded) byId[item.track.id] = item.reasons;
    return tracks.map((item) => (has(byId, item.track.id) ? Object.assign({}, item, { reasons: byId[item.track.id] }) : item));
  }

  async function rewordKept() {
    for (const batch of state.photo.batches) {
      if (!batch.prediction_id) continue;
      let answer;
      try {
        answer = await reworded(batch.prediction_id);
      } catch (e) {
        continue; // forgotten by the server: this batch keeps the words it had
      }
      batch.tracks = withReasons(batch.tracks, answer.tracks);
      if (batch.prediction_id === state.rec.prediction_id) {
        const explanation = state.rec.explanation;
        state.rec = Object.assign({}, state.rec, {
          tracks: batch.tracks,
          notices: answer.notices,
          notice_codes: answer.notice_codes,
          labels: answer.labels,
          lang: answer.lang,
          explanation: explanation && answer.explanation ? Object.assign({}, explanation, answer.explanation, { heatmap: explanation.heatmap }) : explanation,
        });
      }
    }
    if (state.similar) {
      try {
        const body = Object.assign({}, state.similar.request, { lang: LANG });
        const answer = await postJson(CONFIG.similar_url, body);
        state.similar.batches = state.similar.batches.map((batch) => Object.assign({}, batch, { tracks: withReasons(batch.tracks, answer.tracks) }));
      } catch (e) {
        /* the list keeps the words it had */
      }
    }
  }

  async function restoreAfterLanguageSwitch() {
    let kept = null;
    try {
      const raw = window.sessionStorage.getItem(KEEP_KEY);
      window.sessionStorage.removeItem(KEEP_KEY);
      kept = raw ? JSON.parse(raw) : null;
    } catch (e) {
      kept = null;
    }
    if (!kept || !kept.rec) return;
    let photo = null;
    try {
      photo = await keptPhotos("readwrite", (store) => {
        const got = store.get("photo");
        store.delete("photo");
        return got;
      });
    } catch (e) {
      photo = null;
    }
    if (!photo) return;
    setFile(photo);
    el.context.value = kept.context || "";
    el.heatmapInput.checked = Boolean(kept.heatmap);
    el.consentInput.checked = Boolean(kept.consent);
    Object.assign(state, {
      rec: kept.rec,
      photo: kept.photo,
      similar: kept.similar,
      shown: kept.shown || [],
      feedback: kept.feedback || {},
      upload: kept.upload || null,
    });
    renderAnswer(state.rec); // at once, in the words it had …
    showView(kept.view);
    el.results.setAttribute("aria-busy", "true");
    await rewordKept(); // … then in this page's language
    el.results.setAttribute("aria-busy", "false");
    renderAnswer(state.rec);
    showView(kept.view);
    el.commentaryBlock.hidden = true; // the commentary was written in the other language
  }

  el.form.addEventListener("submit", (event) => {
    event.preventDefault();
    analyze();
  });
  el.showMore.addEventListener("click", showMore);
  restoreAfterLanguageSwitch();
})();
