() => {
  // The page's script, run by Gradio once the page loads (qa/ui.py passes this file as `js`).
  // The cards' buttons are delegated because cards arrive later: "Copy citation" copies the citation
  // beside it; a thumb sends the card's question, passage id and vote to the page's /feedback
  // endpoint. Endpoints are called through Gradio's documented HTTP API (its guide "Querying Gradio
  // Apps with Curl"): a POST queues the call and returns its event id; its result is a server-sent
  // event stream, read by the browser's own EventSource ("complete" carries the outputs, "error"
  // says it failed).
  async function called(name, data) {
    const call = await fetch(`gradio_api/call/${name}`, {
      method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({data}),
    });
    if (!call.ok) return null;
    const {event_id} = await call.json();
    return new Promise((resolve) => {
      const events = new EventSource(`gradio_api/call/${name}/${event_id}`);
      events.addEventListener("complete", (event) => { events.close(); resolve(JSON.parse(event.data)); });
      events.addEventListener("error", () => { events.close(); resolve(null); });
    });
  }
  async function vote(button) {
    const card = button.closest(".qa-card");
    const data = [
      card.querySelector(".qa-vote-question").textContent,
      card.querySelector(".qa-vote-id").textContent,
      button.classList.contains("qa-up") ? "up" : "down",
    ];
    if (await called("feedback", data)) {
      card.querySelectorAll(".qa-vote").forEach((b) => b.classList.remove("qa-voted"));
      button.classList.add("qa-voted");
    }
  }
  // The collection of kept quotes lives in this browser tab (sessionStorage); exports are made by the
  // server's /export endpoint from what the tab sends, and saved as a download.
  const KEY = "qa-kept";
  const kept = () => JSON.parse(sessionStorage.getItem(KEY) || "[]");
  const ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"};
  const escape = (text) => text.replace(/[&<>"]/g, (c) => ENTITIES[c]);
  function render() {
    const panel = document.querySelector("#qa-collection .qa-kept-list");
    if (!panel) return;
    const items = kept();
    panel.innerHTML = items.length ? "<ol>" + items.map((item, i) =>
      `<li data-index="${i}"><p class="qa-kept-quote">“${escape(item.quote.split(/\s+/).join(" "))}”</p>` +
      `<span class="qa-kept-credit">— ${escape(item.credit)}</span><br>` +
      `<button type="button" class="qa-kept-up">Up</button>` +
      `<button type="button" class="qa-kept-down">Down</button>` +
      `<button type="button" class="qa-kept-remove">Remove</button></li>`).join("") + "</ol>"
      : "<p>No quotes kept yet: press Keep on a card.</p>";
  }
  function save(items) { sessionStorage.setItem(KEY, JSON.stringify(items)); render(); }
  async function exported(format) {
    const items = kept().map(({credit, ...record}) => record);
    const result = await called("export", [items, format]);
    if (!result) return;
    const [file] = result;
    const bytes = Uint8Array.from(atob(file.base64), (c) => c.charCodeAt(0));
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([bytes], {type: file.type}));
    link.download = file.name;
    document.body.appendChild(link);
    link.click();
    link.remove();
  }
  // A reply opens at its top, its first card in view, not scrolled to its last card (the chat's own
  // autoscroll is off, qa/app/ui.py): while it is searching the chat shows its end, the "Searching"
  // line; once the reply has a card (or is a message without one) the chat scrolls to the reply, and
  // the page too where the chat's top is off the screen (a phone), once per reply, so a reader who
  // scrolls on is left alone. A shared link's reply is treated the same.
  let placed = 0;  // replies already scrolled to
  function placeReply() {
    const box = document.querySelector("#qa-answers .bubble-wrap");
    if (!box) return;
    const replies = box.querySelectorAll(".bot-row");
    if (replies.length < placed) placed = 0;  // the chat was cleared
    if (replies.length === placed) return;
    const reply = replies[replies.length - 1];
    const card = reply.querySelector(".qa-card");
    if (!card && reply.querySelector(".qa-searching")) {
      box.scrollTop = box.scrollHeight;
      return;
    }
    if (!card && !reply.textContent.trim()) return;
    placed = replies.length;
    const top = (element) => element.getBoundingClientRect().top;
    const lead = card && top(card) - top(reply) > box.clientHeight / 3 ? card : reply;
    box.scrollTop += top(lead) - top(box) - parseFloat(getComputedStyle(box).scrollPaddingTop || 0);
    const shown = top(card || reply);
    if (shown < 0 || shown > window.innerHeight - 120) window.scrollBy(0, top(lead) - 8);
  }
  // Names a screen reader says: Gradio names each chat message by its raw content, which for a reply
  // is its HTML (tens of thousands of characters of markup), and a chosen filter's remove button by
  // its number; each is named by the text a reader sees instead.
  // A message's content may be drawn after its label is set, so each is named again as it changes.
  const NAMED = [["bot's message: ", "Reply: "], ["user's message: ", "Question: "]];
  const namedFrom = new WeakMap();  // message -> the content it was last named from
  function nameControls() {
    for (const message of document.querySelectorAll("#qa-answers .message-row [aria-label]")) {
      const label = message.getAttribute("aria-label");
      const kind = NAMED.find(([gradio, ours]) => label.startsWith(gradio) || label.startsWith(ours));
      if (!kind || (label.startsWith(kind[1]) && namedFrom.get(message) === message.textContent)) continue;
      namedFrom.set(message, message.textContent);  // innerText (what is shown) costs a layout: once
      const name = kind[1] + message.innerText.split(/\s+/).join(" ").trim();
      if (label !== name) message.setAttribute("aria-label", name);
    }
    for (const remove of document.querySelectorAll(".token > .token-remove")) {
      const name = "Remove " + remove.parentElement.querySelector("span").textContent.trim();
      if (remove.getAttribute("aria-label") !== name) remove.setAttribute("aria-label", name);
    }
  }
  new MutationObserver(() => {
    if (document.querySelector("#qa-collection .qa-kept-list:empty")) render();
    placeReply();
    nameControls();
  }).observe(document.body, {childList: true, subtree: true, characterData: true, attributes: true,
                             attributeFilter: ["aria-label"]});
  // Play: the card's own player, from the quote's start (a media fragment) to its end, where it
  // pauses; played again, it starts from the quote again.
  function play(button) {
    const card = button.closest(".qa-card");
    const at = JSON.parse(card.querySelector(".qa-play-at").textContent);
    let media = card.querySelector(".qa-player");
    if (!media) {
      media = document.createElement(at.video ? "video" : "audio");
      media.className = "qa-player";
      media.controls = true;
      media.preload = "auto";
      media.src = `${at.src}#t=${at.start},${at.end}`;
      media.addEventListener("error", () => { button.textContent = "Cannot play the recording"; });
      media.addEventListener("timeupdate", () => {
        const end = Number(media.dataset.stopAt);
        if (media.dataset.stopAt && media.currentTime >= end) {
          media.pause();
          delete media.dataset.stopAt;
        }
      });
      button.closest(".qa-meta").after(media);
    }
    media.dataset.stopAt = at.end;
    media.currentTime = at.start;
    media.play().catch(() => {});  // refused or unplayable: the error listener says so
  }
  document.addEventListener("click", (event) => {
    const playing = event.target.closest(".qa-play");
    if (playing) play(playing);
    const keep = event.target.closest(".qa-keep");
    if (keep) {
      const record = JSON.parse(keep.parentElement.querySelector(".qa-kept-record").textContent);
      const items = kept();
      if (!items.some((item) => item.quote === record.quote && item.source.doc_id === record.source.doc_id)) {
        items.push(record);
      }
      save(items);
      keep.classList.add("qa-kept");
      keep.textContent = "Kept";
    }
    const item = event.target.closest("#qa-collection li");
    if (item && event.target.tagName === "BUTTON") {
      const items = kept(), i = Number(item.dataset.index);
      const to = event.target.classList.contains("qa-kept-up") ? i - 1 : i + 1;
      if (event.target.classList.contains("qa-kept-remove")) items.splice(i, 1);
      else if (to >= 0 && to < items.length) [items[i], items[to]] = [items[to], items[i]];
      save(items);
    }
    const format = event.target.closest("#qa-collection [data-format]");
    if (format) exported(format.dataset.format);
    const copy = event.target.closest(".qa-copy");
    if (copy) {
      const text = copy.parentElement.querySelector(".qa-citation").textContent;
      navigator.clipboard.writeText(text).then(() => { copy.textContent = "Copied"; });
    }
    const thumb = event.target.closest(".qa-vote");
    if (thumb) vote(thumb);
  });
}
