"""A real browser (Debian's chromium, driven by Playwright) asks the running app a question."""

import http.client
import json
import os
import re
import shutil
from pathlib import Path
from urllib.parse import quote, urlparse

import pytest
from playwright.sync_api import expect
from recorded import QUESTION as TIMED_QUESTION
from recorded import write_interview, write_tone
from test_app import DOC, running_app, server  # noqa: F401  (the running-app fixture)

from qa.cli import main
from qa.store import load

CHROMIUM = Path("/usr/bin/chromium")
MODES = ("dense", "bm25", "hybrid", "hybrid-rrf")
QUESTION = "Where will the SCO summit be held in 2018?"
pytestmark = [pytest.mark.model, pytest.mark.app, pytest.mark.browser]


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(
                "CI must run the browser test: /usr/bin/chromium is missing (apt-get install chromium)"
            )
        pytest.skip("no /usr/bin/chromium here (apt-get install chromium to run this test)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


SECOND_INTERVIEW = """\
Festival director on the summer season

Question: How many concerts will the festival hold this summer?

Maria Petrova: We will hold forty concerts in twelve cities <img src=x onerror=alert(1)>, most of them \
outdoors <script>alert(2)</script> [tickets](javascript:alert(3)) &amp; free.

Question: Who opens the season?

Maria Petrova: Young pianists from the conservatory open the season, and a choir from Kazan closes it.
"""


@pytest.fixture(scope="module")
def archive(tmp_path_factory, minilm):
    """The app serving three interviews: the bundled one, a short one with another speaker, and a
    timed one with its recording (tests/recorded.py)."""
    from qa.ingest.corpus import BUNDLED_CORPUS
    from qa.store import build

    folder = tmp_path_factory.mktemp("archive")
    corpus = folder / "corpus"
    shutil.copytree(BUNDLED_CORPUS, corpus, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    (corpus / "festival.txt").write_text(SECOND_INTERVIEW, encoding="utf-8")
    write_interview(corpus)  # bridge.srt and the bridge.wav beside it
    build(corpus, folder / "index", minilm)
    with running_app(folder / "index", folder / "app.log") as url:
        yield url, folder / "index"


def ask_of_speaker(page, speaker: str, question: str) -> None:
    """Ask the page a question with Settings' speaker filter set to one speaker."""
    box = page.locator("#qa-question textarea")
    box.wait_for()
    page.get_by_text("Settings", exact=True).first.click()
    page.get_by_role("combobox", name="Speakers (none chosen: all)").click()
    page.get_by_role("option", name=speaker).click()
    box.fill(question)
    page.keyboard.press("Enter")


def text_of(locator) -> str:
    return locator.inner_text().replace("\xa0", " ")


def test_a_question_in_the_browser_shows_the_right_quote_card(server, browser, tmp_path):  # noqa: F811
    session = browser.new_context(
        viewport={"width": 1100, "height": 900}, permissions=["clipboard-read", "clipboard-write"]
    )
    page = session.new_page()
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(server)
    box = page.locator("#qa-question textarea")
    assert page.get_by_text("Settings", exact=True).first.bounding_box()["y"] > box.bounding_box()["y"]
    box.fill(QUESTION)
    page.keyboard.press("Enter")
    page.locator(".qa-card").first.wait_for(timeout=60_000)
    card = page.locator(".qa-card").first
    assert card.locator(".qa-id").inner_text() == f"{DOC}:15:1"
    excerpt = text_of(card.locator(".qa-quote:not(.qa-whole)"))
    assert "a regular summit of the SCO member states in Qingdao" in excerpt
    assert len(excerpt.split()) <= 120  # a short excerpt, not the whole answer
    quote = text_of(card.locator("mark.qa-best"))  # the words to quote, marked inside the excerpt
    assert quote.startswith("As for specific SCO activities in 2018") and "Qingdao" in quote
    assert text_of(card.locator(".qa-meta")).startswith(
        "Rashid Alimov · in answer to: We are on the eve of 2018."
    )
    # the thumbs are drawn (inline SVG), not emoji, which Debian's chromium shows as boxes
    # (their names are for screen readers, unseen: the thumbs show no text)
    assert card.locator(".qa-vote svg").count() == 2
    assert card.locator(".qa-vote .qa-unseen").first.bounding_box()["width"] <= 1
    # the chat scrolls to its end once the reply is drawn; then bring the question and first card
    # back into view for the screenshot
    page.wait_for_timeout(1500)
    asked = page.get_by_text(QUESTION, exact=True).first
    asked.evaluate("e => e.scrollIntoView({block: 'start'})")
    # the asked question lies below the chat's label and toolbar, not under them
    toolbar = page.locator("#qa-answers .top-panel").first.bounding_box()
    assert asked.bounding_box()["y"] >= toolbar["y"] + toolbar["height"]
    shot = tmp_path / "chat.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    if os.environ.get("QA_SCREENSHOT_DIR"):
        shutil.copy(shot, Path(os.environ["QA_SCREENSHOT_DIR"]) / "chat.png")
    # the card shows its citation, and "Copy citation" puts that on the clipboard: the marked quote,
    # who said it, the outlet and the date
    cited = f'"{" ".join(quote.split())}" - Rashid Alimov, TASS, 2017-12'
    assert card.locator(".qa-citation").is_visible() and text_of(card.locator(".qa-citation")) == cited
    card.locator(".qa-copy").click()
    page.wait_for_function("document.querySelector('.qa-copy').textContent === 'Copied'")
    assert page.evaluate("navigator.clipboard.readText()") == cited
    # a follow-up is searched with the question before it, and the reply says so
    page.locator("#qa-question textarea").fill("And what about the presidency?")
    page.keyboard.press("Enter")
    searched = page.locator(".qa-searched")
    searched.wait_for(timeout=60_000)
    assert text_of(searched) == f"Searched: {QUESTION} And what about the presidency?"
    # "Show context" opens the whole answer with the question before it
    context = card.locator("details.qa-context")
    assert not context.locator(".qa-asked").is_visible()
    context.locator("summary").click()
    assert text_of(context.locator(".qa-asked")).startswith("Question: We are on the eve of 2018.")
    assert "the main event will be a regular summit" in text_of(context.locator("mark.qa-excerpt").first)
    context.locator("summary").click()
    # the Evaluate tab runs the interview's eval set on every mode
    page.get_by_role("tab", name="Evaluate").click()
    page.get_by_role("button", name="Run evaluation").click()
    page.get_by_text("Not first").wait_for()
    page.wait_for_function(
        "document.body.innerText.split('Comparison')[0].includes('hybrid-rrf\\n0.')", timeout=120_000
    )
    metrics = page.inner_text("body").split("Metrics (")[1].split("Comparison")[0]
    assert [line for line in metrics.splitlines() if line in MODES] == list(MODES)
    page.wait_for_timeout(2000)  # let the outputs finish fading in
    page.screenshot(path=str(tmp_path / "eval.png"))
    if os.environ.get("QA_SCREENSHOT_DIR"):
        shutil.copy(tmp_path / "eval.png", Path(os.environ["QA_SCREENSHOT_DIR"]) / "eval.png")
    own = urlparse(server).netloc
    outside = [
        url
        for url in requests
        if urlparse(url).scheme in ("http", "https", "ws", "wss") and urlparse(url).netloc != own
    ]
    assert outside == []  # the page fetches nothing from any other host: users may be offline


def test_a_speaker_filter_keeps_only_their_words_and_a_thumb_up_is_recorded(archive, browser):
    url, index_dir = archive
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(url)
    ask_of_speaker(page, "Maria Petrova", "Who plays the piano?")
    page.locator(".qa-share a").wait_for(timeout=60_000)  # the reply's last part: every card is in
    metas = [text_of(m) for m in page.locator(".qa-card .qa-meta").all()]
    assert metas and all(m.startswith("Maria Petrova · in answer to:") for m in metas)
    card = page.locator(".qa-card").first
    assert "Young pianists from the conservatory" in text_of(card.locator(".qa-quote").first)
    assert text_of(card.locator(".qa-relevance")) in ("strong match", "good match", "weak match")
    # the interview's markup is shown as the text it is, in the card and in its context, and never runs
    shown = text_of(page.locator(".qa-card").nth(1).locator(".qa-quote").first)
    assert "<img src=x onerror=alert(1)>" in shown and "<script>alert(2)</script>" in shown
    assert "[tickets](javascript:alert(3)) &amp; free." in shown
    page.locator(".qa-card").nth(1).locator("details.qa-context summary").click()
    page.wait_for_timeout(500)
    assert dialogs == [] and page.locator(".qa-card img").count() == 0
    card.locator(".qa-up").click()
    page.wait_for_function("document.querySelector('.qa-card .qa-up').classList.contains('qa-voted')")
    (vote,) = [json.loads(line) for line in (index_dir / "feedback.jsonl").read_text().splitlines()]
    assert (vote["question"], vote["passage_id"], vote["vote"]) == (
        "Who plays the piano?",
        "festival:3:0",
        "up",
    )


def test_the_speaker_filter_lists_the_speakers_of_the_chosen_interviews(archive, browser):
    url, index_dir = archive
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.goto(url)
    page.locator("#qa-question textarea").wait_for()
    page.get_by_text("Settings", exact=True).first.click()
    speakers = page.get_by_role("combobox", name="Speakers (none chosen: all)")

    def listed() -> list[str]:
        speakers.click()
        page.get_by_role("option").first.wait_for()
        names = [text_of(option).strip() for option in page.get_by_role("option").all()]
        page.keyboard.press("Escape")
        return names

    assert listed() == ["Maria Petrova", "Mayor Jane Holt", "Rashid Alimov"]  # every interview's
    page.get_by_role("combobox", name="Interviews (none chosen: all)").click()
    page.get_by_role("option", name="Festival director on the summer season").click()
    page.keyboard.press("Escape")
    page.wait_for_timeout(1000)  # the speaker filter follows a moment later
    assert listed() == ["Maria Petrova"]


def test_an_uploaded_interview_is_searchable_as_soon_as_it_is_added(archive, browser, tmp_path):
    url, index_dir = archive
    upload = tmp_path / "harbour talk.txt"
    upload.write_text(
        "Question: What changed at the harbour this winter?\n\n"
        "Lena Holm: The ferries stopped for six weeks because the ice closed the harbour.\n",
        encoding="utf-8",
    )
    sidecar = tmp_path / "harbour talk.json"
    sidecar.write_text(json.dumps({"title": "Harbour winter", "outlet": "Example Herald"}), encoding="utf-8")
    recording = write_tone(tmp_path / "harbour talk.wav", 2)  # uploaded with its transcript
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.goto(url)
    about = page.locator("#qa-about")
    assert "3 interviews:" in text_of(about) and "Harbour winter" not in text_of(about)
    page.get_by_role("tab", name="Archive").click()
    page.locator("input[type=file][multiple]").set_input_files([str(upload), str(sidecar), str(recording)])
    page.get_by_label("harbour talk.json").wait_for()  # uploaded: now they can be added
    # every state the report passes through, as the page shows it
    page.evaluate(
        "window.qaReports = []; setInterval(() => { const v = document.querySelector('#qa-archive-report "
        "textarea').value; if (v !== window.qaReports.at(-1)) window.qaReports.push(v) }, 20)"
    )
    page.get_by_role("button", name="Add to the archive").click()
    report = page.locator("#qa-archive-report textarea")
    page.wait_for_function(
        "document.querySelector('#qa-archive-report textarea').value.includes('Searchable now: 4')",
        timeout=120_000,
    )
    assert report.input_value().splitlines() == [
        "harbour talk.txt: added as harbour-talk (1 passages; with its recording harbour talk.wav)",
        "Searchable now: 4 interviews, 43 passages.",
    ]
    # the upload said what it was doing as it went, in the order it did it: reading, embedding, each
    # file checked, done. The server says each state (tests/test_archive.py); a busy browser may
    # paint two that arrive together as one, so the page shows some of them, never out of order.
    steps = ("reading 1 file", "embedding: ", "read 1 of 1 files", "Searchable now: ")
    lasts = [shown.splitlines()[-1] for shown in page.evaluate("window.qaReports") if shown]
    seen = [next(i for i, step in enumerate(steps) if last.startswith(step)) for last in lasts]
    assert seen == sorted(seen) and seen[-1] == 3 and len(set(seen)) >= 2
    assert "harbour-talk" in page.inner_text("body")  # listed, under a doc id safe for passage ids
    page.get_by_role("tab", name="Chat").click()
    # the page follows the archive without a reload: header, the question box's example, filters
    assert "4 interviews:" in text_of(about) and "Harbour winter · Example Herald" in text_of(about)
    box = page.locator("#qa-question textarea")
    assert box.get_attribute("placeholder").startswith("Ask the 4 interviews a question, e.g. ")
    page.get_by_text("Settings", exact=True).first.click()
    page.get_by_role("combobox", name="Speakers (none chosen: all)").click()
    assert page.get_by_role("option", name="Lena Holm").count() == 1  # the filter knows her already
    page.keyboard.press("Escape")
    page.get_by_role("combobox", name="Interviews (none chosen: all)").click()
    assert page.get_by_role("option", name="Harbour winter, Example Herald").count() == 1
    page.keyboard.press("Escape")
    page.reload()  # and so does a fresh page
    page.wait_for_function("document.querySelector('#qa-about')?.innerText.includes('4 interviews:')")
    page.get_by_placeholder("Ask the 4 interviews a question").fill("Why did the ferries stop?")
    page.keyboard.press("Enter")
    page.locator(".qa-card").first.wait_for(timeout=60_000)
    assert text_of(page.locator(".qa-card .qa-meta").first).startswith("Lena Holm · in answer to:")
    assert sorted(load(index_dir).documents) == ["bridge", "festival", "harbour-talk", "sco-alimov-tass-2017"]
    assert load(index_dir).recording("harbour-talk").read_bytes() == recording.read_bytes()
    # a page loaded after the upload can remove it, and its lists follow
    fresh = browser.new_page(viewport={"width": 1100, "height": 900})
    fresh.goto(url)
    fresh.get_by_role("tab", name="Archive").click()
    fresh.get_by_role("combobox", name="Interview to remove").click()
    fresh.get_by_role("option", name="Harbour winter, Example Herald").click()  # listed by its title
    # Remove asks first, naming the interview; No keeps it
    asked = []
    fresh.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    fresh.get_by_role("button", name="Remove").click()
    fresh.wait_for_function(
        "document.querySelector('#qa-archive-report textarea').value.startsWith('Nothing removed')"
    )
    assert asked == [
        'Remove "Harbour winter, Example Herald" from the archive? Its passages and recording are deleted.'
    ]
    assert "harbour-talk" in load(index_dir).documents
    fresh.once("dialog", lambda dialog: dialog.accept())
    fresh.get_by_role("button", name="Remove").click()
    fresh.wait_for_function(
        "document.querySelector('#qa-archive-report textarea').value"
        ".startsWith('Removed harbour-talk (Harbour winter)')"
    )
    assert "3 interviews:" in text_of(fresh.locator("#qa-about"))
    assert sorted(load(index_dir).documents) == ["bridge", "festival", "sco-alimov-tass-2017"]
    assert sorted(p.name for p in (index_dir / "recordings").iterdir()) == ["bridge.wav"]


def test_three_kept_quotes_are_exported_as_markdown_csv_and_word_in_their_order(
    server,  # noqa: F811
    browser,
):
    import csv
    import io

    import docx

    page = browser.new_context(accept_downloads=True).new_page()
    page.goto(server)
    page.locator("#qa-question textarea").fill(QUESTION)
    page.keyboard.press("Enter")
    page.locator(".qa-share a").wait_for(timeout=60_000)  # the reply's last part: every card is in
    cards = [page.locator(".qa-card").nth(i) for i in range(3)]
    quotes = [" ".join(text_of(card.locator("mark.qa-best")).split()) for card in cards]
    for card in cards:
        card.locator(".qa-keep").click()
    kept = page.locator("#qa-collection li")
    assert kept.count() == 3 and cards[0].locator(".qa-keep").inner_text() == "Kept"
    kept.nth(2).locator(".qa-kept-up").click()  # the third quote before the second
    order = [quotes[0], quotes[2], quotes[1]]
    assert [" ".join(text_of(item.locator(".qa-kept-quote")).split()) for item in kept.all()] == [
        f"“{quote}”" for quote in order
    ]

    def exported(format: str) -> bytes:
        with page.expect_download() as download:
            page.locator(f"#qa-collection [data-format={format}]").click()
        return Path(download.value.path()).read_bytes()

    credit = "Rashid Alimov, TASS, 2017-12"
    markdown = exported("markdown").decode()
    assert [line[2:] for line in markdown.splitlines() if line.startswith("> ")] == order
    assert markdown.count(f"— {credit} <http://tass.ru/") == 3
    rows = list(csv.DictReader(io.StringIO(exported("csv").decode())))
    assert [(r["quote"], r["speaker"], r["outlet"], r["published"]) for r in rows] == [
        (quote, "Rashid Alimov", "TASS", "2017-12") for quote in order
    ]
    assert all(r["in_answer_to"] and r["doc_id"] == DOC for r in rows)
    paragraphs = [p.text for p in docx.Document(io.BytesIO(exported("docx"))).paragraphs]
    assert [p[1:-1] for p in paragraphs if p.startswith("“")] == order
    assert paragraphs.count(f"— {credit}") == 3
    kept.nth(0).locator(".qa-kept-remove").click()
    assert kept.count() == 2


def test_a_reply_s_link_opened_in_a_fresh_page_shows_the_same_first_card(archive, browser):
    page = browser.new_context().new_page()
    url, _ = archive
    page.goto(url)
    ask_of_speaker(page, "Maria Petrova", "Who opens the season?")
    page.locator(".qa-share a").wait_for(timeout=60_000)
    cards = [c.inner_text() for c in page.locator(".qa-card .qa-id").all()]
    href = page.locator(".qa-share a").get_attribute("href")
    # the link says what was asked and chosen, and nothing else
    assert href == "?q=Who+opens+the+season%3F&mode=hybrid&k=5&speaker=Maria+Petrova"
    fresh = browser.new_context().new_page()  # a colleague's browser: no history, no storage
    fresh.goto(url + href)
    fresh.locator(".qa-share a").wait_for(timeout=60_000)
    assert [c.inner_text() for c in fresh.locator(".qa-card .qa-id").all()] == cards
    assert cards[0] == "festival:3:0"
    fresh.get_by_text("Settings", exact=True).first.click()
    chosen = fresh.locator(".block", has_text="Speakers (none chosen: all)").locator(".token")
    chosen.first.wait_for(timeout=30_000)  # the opened Settings render their filters a moment later
    assert [text_of(token).strip() for token in chosen.all()] == ["Maria Petrova"]  # the filter is set
    # a link anyone can write: its question is shown as the text it is, markup and all
    dialogs = []
    fresh.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    fresh.goto(url + "?q=" + quote("Who opens? <img src=x onerror=alert(1)><script>alert(2)</script>"))
    fresh.locator(".qa-share a").wait_for(timeout=60_000)
    asked = text_of(fresh.locator("#qa-answers .message").first)
    assert asked == "Who opens? <img src=x onerror=alert(1)><script>alert(2)</script>"
    assert dialogs == [] and fresh.locator("#qa-answers img").count() == 0


def test_a_timed_card_plays_its_quote_from_the_recording_and_stops_at_its_end(archive, browser, tmp_path):
    page = browser.new_context(viewport={"width": 1100, "height": 900}).new_page()
    url, _ = archive
    page.goto(url)
    box = page.locator("#qa-question textarea")
    box.fill(TIMED_QUESTION)
    page.keyboard.press("Enter")
    page.locator(".qa-share a").wait_for(timeout=60_000)
    card = page.locator(".qa-card").first
    assert text_of(card.locator(".qa-meta")).startswith("Mayor Jane Holt [00:00:11–00:00:17] Play")
    card.locator(".qa-play").click()
    player = card.locator("audio.qa-player")
    _, index_dir = archive
    own = quote(str((index_dir / "recordings" / "bridge.wav").resolve()))
    assert player.get_attribute("src") == f"gradio_api/file={own}#t=11,17"
    page.wait_for_function(
        "() => { const m = document.querySelector('.qa-card audio.qa-player');"
        " return m && !m.paused && m.currentTime > 11.3; }",
        timeout=30_000,
    )
    assert 11.0 <= player.evaluate("m => m.currentTime") <= 17.0  # playing, within the quote's cue
    page.wait_for_function("() => document.querySelector('.qa-card audio.qa-player').paused", timeout=30_000)
    assert 16.5 <= player.evaluate("m => m.currentTime") <= 17.5  # stopped at the quote's end
    card.locator(".qa-keep").click()  # kept, with when it was said
    assert (
        text_of(page.locator("#qa-collection li .qa-kept-credit"))
        == "— Mayor Jane Holt, “bridge” [00:00:11-00:00:17]"
    )
    page.locator("#qa-answers .message").last.scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "player.png"))
    if os.environ.get("QA_SCREENSHOT_DIR"):
        shutil.copy(tmp_path / "player.png", Path(os.environ["QA_SCREENSHOT_DIR"]) / "player.png")
    # a card from a transcript without times shows no play control
    box.fill("Who opens the season?")
    page.keyboard.press("Enter")
    page.locator(".qa-share a").nth(1).wait_for(timeout=60_000)
    first = page.locator("#qa-answers .message").last.locator(".qa-card").first
    assert text_of(first.locator(".qa-meta")).startswith("Maria Petrova · in answer to:")
    assert first.locator(".qa-time").count() == 0 and first.locator(".qa-play").count() == 0


def fetch(url: str, path: str, headers: dict | None = None) -> tuple[int, bytes]:
    """GET path from the app at url, sent as written: no client tidies the dots away."""
    where = urlparse(url)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
    connection.request("GET", path, headers=headers or {})
    answer = connection.getresponse()
    return answer.status, answer.read()


def test_the_running_app_serves_a_recording_and_no_path_reaches_another_file(archive):
    url, index_dir = archive
    kept = (index_dir / "recordings" / "bridge.wav").resolve()
    route = "/gradio_api/file="
    assert fetch(url, route + quote(str(kept))) == (200, kept.read_bytes())
    status, part = fetch(url, route + quote(str(kept)), {"Range": "bytes=44-99"})  # the player seeks
    assert (status, part) == (206, kept.read_bytes()[44:100])
    for path in (
        str(index_dir.resolve() / "manifest.json"),  # the archive's own files, beside its recordings
        str(kept.parent / ".." / "manifest.json"),
        quote(str(kept.parent), safe="") + "%2F..%2Fmanifest.json",
        "/etc/passwd",
        str(kept.parent / ".." / ".." / ".." / ".." / "etc" / "passwd"),
        "../manifest.json",
    ):
        status, body = fetch(url, route + path)
        assert status in (403, 404), path
        assert b"embedder" not in body and b"root:" not in body, path


def test_behind_the_login_a_shared_link_opens_its_reply_once_signed_in(archive, browser, tmp_path):
    _, index_dir = archive
    with running_app(index_dir, tmp_path / "app.log", env={"QA_AUTH": "editor:s3cret"}) as url:
        page = browser.new_context().new_page()
        page.goto(url + "?q=" + quote(TIMED_QUESTION) + "&k=2&speaker=Mayor+Jane+Holt")
        page.get_by_label("username").fill("editor")
        page.get_by_label("password").fill("s3cret")
        page.get_by_role("button", name="Login").click()
        page.locator(".qa-share a").wait_for(timeout=60_000)  # the link's reply, after the login
        assert [text_of(c) for c in page.locator(".qa-card .qa-id").all()] == ["bridge:3:0", "bridge:1:0"]
        card = page.locator(".qa-card").first
        card.locator(".qa-play").click()  # and its recording plays, with the login's cookie
        page.wait_for_function(
            "() => { const m = document.querySelector('.qa-card audio.qa-player');"
            " return m && m.currentTime > 11.3; }",
            timeout=30_000,
        )


@pytest.mark.speech
def test_a_recording_uploaded_alone_is_transcribed_and_its_card_plays_inside_the_answer(
    archive, browser, tmp_path
):
    """The Archive tab's upload of a recording without a transcript (spoken by espeak-ng in two
    voices, tests/spoken.py): transcribed on the server, with its progress on the page; a
    paraphrased question's first card quotes the answer and plays from inside it."""
    from spoken import speak

    from qa.ingest import transcribe

    if not transcribe.available():
        pytest.skip("the transcribe extra is not installed (make transcribe)")
    url, index_dir = archive
    said = speak(tmp_path / "harbour engineer.wav")
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.goto(url)
    page.get_by_role("tab", name="Archive").click()
    page.locator("input[type=file][multiple]").set_input_files([str(tmp_path / "harbour engineer.wav")])
    page.get_by_label("harbour engineer.wav").wait_for()
    page.evaluate(
        "window.qaReports = []; setInterval(() => { const v = document.querySelector('#qa-archive-report "
        "textarea').value; if (v !== window.qaReports.at(-1)) window.qaReports.push(v) }, 20)"
    )
    page.get_by_role("button", name="Add to the archive").click()
    page.wait_for_function(
        "document.querySelector('#qa-archive-report textarea').value.includes('Searchable now')",
        timeout=240_000,
    )
    report = page.locator("#qa-archive-report textarea").input_value().splitlines()
    assert report[0].startswith("harbour engineer.wav: added as harbour-engineer (")
    shown = [s.splitlines()[-1] for s in page.evaluate("window.qaReports") if s]
    assert any(re.fullmatch(r"transcribing harbour engineer\.wav: \d+ of \d+ min.*", s) for s in shown)
    page.get_by_role("tab", name="Chat").click()
    page.locator("#qa-question textarea").fill("When will they begin digging?")
    page.keyboard.press("Enter")
    page.locator(".qa-share a").wait_for(timeout=60_000)
    card = page.locator(".qa-card").first
    assert "March" in text_of(card.locator(".qa-best"))
    assert text_of(card.locator(".qa-meta")).startswith("Speaker 2 [")
    answer = next(s for s in said if "March" in s.text)
    card.locator(".qa-play").click()
    page.wait_for_function(
        "() => { const m = document.querySelector('.qa-card audio.qa-player');"
        " return m && !m.paused && m.currentTime > 0; }",
        timeout=30_000,
    )
    at = card.locator("audio.qa-player").evaluate("m => m.currentTime")
    assert answer.start - 0.5 <= at <= answer.end + 0.5  # playing inside the answer
    card.evaluate("c => c.scrollIntoView({block: 'start'})")  # the first card, playing
    page.screenshot(path=str(tmp_path / "transcribed.png"))
    if os.environ.get("QA_SCREENSHOT_DIR"):
        shutil.copy(tmp_path / "transcribed.png", Path(os.environ["QA_SCREENSHOT_DIR"]) / "transcribed.png")
    assert load(index_dir).recording("harbour-engineer").name == "harbour-engineer.wav"
    # named in the Archive tab, and its transcript downloaded as WebVTT with the names
    page.get_by_role("tab", name="Archive").click()
    page.get_by_role(
        "combobox", name="Interview whose speakers to name, or whose transcript to download"
    ).click()
    page.get_by_role("option", name="harbour engineer").click()  # listed by its title
    page.get_by_label("Its speakers' names").fill("Speaker 1=Ann Reporter, Speaker 2=Lena Holm")
    page.get_by_role("button", name="Name the speakers").click()
    page.wait_for_function(
        "document.querySelector('#qa-archive-report textarea').value.startsWith('Named the speakers')",
        timeout=120_000,
    )
    assert {p.speaker for p in load(index_dir).passages if p.doc_id == "harbour-engineer"} == {"Lena Holm"}
    # the lists are reset after the change, so Download waits for a choice; chosen, it is usable once
    # the server has made that transcript (under load that takes a while)
    download = page.get_by_role("button", name="Download its transcript")
    expect(download).to_be_disabled(timeout=60_000)
    page.get_by_role(
        "combobox", name="Interview whose speakers to name, or whose transcript to download"
    ).click()
    page.get_by_role("option", name="harbour engineer").click()  # listed by its title
    expect(download).to_be_enabled(timeout=60_000)
    with page.expect_download() as downloading:
        download.click()
    saved = downloading.value.path()
    text = Path(saved).read_text(encoding="utf-8")
    assert downloading.value.suggested_filename == "harbour-engineer.vtt"
    assert text.startswith("WEBVTT") and "<v Lena Holm>" in text and "<v Ann Reporter>" in text


DESKTOP, PHONE = {"width": 1300, "height": 1000}, {"width": 390, "height": 844}
VIEWPORTS = pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])


def answered(page, question: str) -> None:
    """Ask by the question box, and wait for the whole reply (its link comes last)."""
    replies = page.locator(".qa-share a").count()
    page.locator("#qa-question textarea").fill(question)
    page.keyboard.press("Enter")
    page.locator(".qa-share a").nth(replies).wait_for(timeout=60_000)


# Where the last reply's first card is: its top inside the chat's visible part and the window, and
# the card itself the element seen a little below its top edge (not the chat's toolbar or a button
# lying over it).
FIRST_CARD_SEEN = """() => {
  const reply = [...document.querySelectorAll('#qa-answers .bot-row')].at(-1);
  const card = reply.querySelector('.qa-card');
  const chat = document.querySelector('#qa-answers .bubble-wrap').getBoundingClientRect();
  const top = card.getBoundingClientRect().top;
  const seen = document.elementFromPoint(card.getBoundingClientRect().left + 24, top + 8);
  return top >= Math.max(chat.top, 0) && top + 40 <= Math.min(chat.bottom, window.innerHeight)
    && seen !== null && seen.closest('.qa-card') === card;
}"""


@VIEWPORTS
def test_a_reply_and_a_shared_link_open_at_their_first_card(archive, browser, viewport, tmp_path):
    """Not scrolled to the last, weakest card: after a second question (the chat already full) and
    when a colleague opens the reply's link, the first card's top is what the reader sees."""
    url, _ = archive
    page = browser.new_page(viewport=viewport)
    page.goto(url)
    answered(page, "Who opens the season?")
    answered(page, TIMED_QUESTION)
    assert page.locator("#qa-answers .bot-row").last.locator(".qa-card").count() == 5
    assert page.evaluate(FIRST_CARD_SEEN)
    href = page.locator(".qa-share a").last.get_attribute("href")
    fresh = browser.new_page(viewport=viewport)
    fresh.goto(url + href)
    fresh.locator(".qa-share a").wait_for(timeout=60_000)
    assert fresh.evaluate(FIRST_CARD_SEEN)
    # the arrow that scrolls to the chat's end lies beside the cards, over none of their buttons
    arrow = fresh.locator("#qa-answers .scroll-down-button-container").bounding_box()
    card = fresh.locator(".qa-card").first.bounding_box()
    assert arrow["x"] >= card["x"] + card["width"]
    shot = tmp_path / ("chat-phone.png" if viewport is PHONE else "chat-desktop.png")
    fresh.screenshot(path=str(shot))  # the README's pictures, with QA_SCREENSHOT_DIR set
    if os.environ.get("QA_SCREENSHOT_DIR"):
        shutil.copy(shot, Path(os.environ["QA_SCREENSHOT_DIR"]) / shot.name)


SERIOUS = ("serious", "critical")


@VIEWPORTS
def test_axe_finds_nothing_serious_on_the_chat_evaluate_and_archive_tabs(archive, browser, viewport):
    """axe-core (axe-playwright-python carries it: nothing is fetched) on each tab, with a reply
    and a chosen speaker on the chat; and the names a screen reader says for the controls it uses."""
    from axe_playwright_python.sync_playwright import Axe

    url, _ = archive
    page = browser.new_page(viewport=viewport)
    page.goto(url)
    ask_of_speaker(page, "Maria Petrova", "Who opens the season?")
    page.locator(".qa-share a").wait_for(timeout=60_000)
    found = {}
    for tab, shown in (("Chat", ".qa-card"), ("Evaluate", "#qa-eval-run"), ("Archive", "[role=grid]")):
        page.get_by_role("tab", name=tab).click()
        page.locator(shown).first.wait_for()
        violations = Axe().run(page).response["violations"]
        found[tab] = [
            (v["id"], [n["target"] for n in v["nodes"]]) for v in violations if v["impact"] in SERIOUS
        ]
    assert found == {"Chat": [], "Evaluate": [], "Archive": []}
    page.get_by_role("tab", name="Chat").click()
    assert page.get_by_role("textbox", name="Your question").count() == 1
    assert page.get_by_role("button", name="Ask", exact=True).count() == 1
    assert page.get_by_role("button", name="Remove Maria Petrova").count() == 1  # the chosen speaker
    card = page.locator(".qa-card").first
    assert card.get_by_role("button", name="This answers the question").count() == 1
    assert card.get_by_role("button", name="This does not answer it").count() == 1
    # a reply is named by its text, not its markup
    reply = page.locator("#qa-answers .bot-row [aria-label]").first
    said = " ".join(reply.inner_text().split())
    assert reply.get_attribute("aria-label") == f"Reply: {said}" and "Young pianists" in said
    asked = page.locator("#qa-answers .user-row [aria-label]").first
    assert asked.get_attribute("aria-label") == "Question: Who opens the season?"


def tab_to(page, selector: str, back: bool = False, limit: int = 120) -> None:
    """Press Tab (Shift+Tab, `back`) until the first element matching `selector` has the focus."""
    for _ in range(limit):
        if page.evaluate("s => document.activeElement === document.querySelector(s)", selector):
            return
        page.keyboard.press("Shift+Tab" if back else "Tab")
    pytest.fail(f"{selector} not reached in {limit} presses of {'Shift+Tab' if back else 'Tab'}")


def test_by_keyboard_alone_a_reader_asks_reads_plays_votes_keeps_and_copies_a_citation(archive, browser):
    url, index_dir = archive
    context = browser.new_context(viewport=DESKTOP, permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(url)
    page.locator("#qa-question textarea").wait_for()
    tab_to(page, "#qa-question textarea")
    page.keyboard.type(TIMED_QUESTION)
    page.keyboard.press("Enter")
    page.locator(".qa-share a").wait_for(timeout=60_000)
    card = page.locator(".qa-card").first
    # back from the question box into the reply, to its first card's controls, last to first
    tab_to(page, ".qa-card .qa-up", back=True)
    page.keyboard.press("Enter")
    card.locator(".qa-up.qa-voted").wait_for()
    vote = json.loads((index_dir / "feedback.jsonl").read_text().splitlines()[-1])
    assert (vote["question"], vote["passage_id"], vote["vote"]) == (TIMED_QUESTION, "bridge:3:0", "up")
    tab_to(page, ".qa-card .qa-keep", back=True)
    page.keyboard.press("Enter")
    assert text_of(page.locator("#qa-collection li .qa-kept-credit")) == (
        "— Mayor Jane Holt, “bridge” [00:00:11-00:00:17]"
    )
    tab_to(page, ".qa-card .qa-copy", back=True)
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelector('.qa-card .qa-copy').textContent === 'Copied'")
    assert page.evaluate("navigator.clipboard.readText()") == text_of(card.locator(".qa-citation"))
    tab_to(page, ".qa-card .qa-context summary", back=True)
    page.keyboard.press("Enter")  # the whole answer, to read
    assert card.locator(".qa-context").get_attribute("open") is not None
    tab_to(page, ".qa-card .qa-play", back=True)
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => { const m = document.querySelector('.qa-card audio.qa-player');"
        " return m && !m.paused && m.currentTime > 11.3; }",
        timeout=30_000,
    )


def test_a_refused_upload_says_what_is_wrong_and_what_to_do_and_goes_when_other_files_are_chosen(
    archive, browser, tmp_path
):
    """A WebVTT file with a broken time line is refused in plain words, with WebVTT's own example;
    choosing the next files clears that report; an interview with a long title, added, wraps in the
    Archive table's column instead of pushing the table past the page (1300 px), and is removed."""
    url, index_dir = archive
    before = sorted(load(index_dir).documents)
    broken = tmp_path / "talk.vtt"
    broken.write_text(
        "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v Anna Berg>Hello.\n\n"
        "00:00:05.000 --> 00:00:0x.000\n<v Ben Cole>Hi.\n",
        encoding="utf-8",
    )
    page = browser.new_page(viewport=DESKTOP)
    page.goto(url)
    page.get_by_role("tab", name="Archive").click()
    files = page.locator("input[type=file][multiple]")
    files.set_input_files([str(broken)])
    page.get_by_label("talk.vtt").wait_for()
    page.get_by_role("button", name="Add to the archive").click()
    refused = (
        "talk.vtt: caption 2's time line '00:00:05.000 --> 00:00:0x.000' is not two times like "
        "'00:00:01.000 --> 00:00:04.000'; correct that line (or export the captions anew) and add the "
        "file again"
    )
    # the whole report once the file is read (before it, the report says how far reading got)
    page.wait_for_function(
        "said => document.querySelector('#qa-archive-report textarea').value === said", arg=refused
    )
    assert page.get_by_label("talk.vtt").count() == 0  # read: the upload box is empty again
    long = tmp_path / "season.txt"
    long.write_text(
        "Question: Who opens the autumn season?\n\nIvan Sokolov: The youth orchestra opens it.\n",
        encoding="utf-8",
    )
    title = "The autumn season of the regional philharmonic, its forty concerts in twelve cities " * 3
    (tmp_path / "season.json").write_text(json.dumps({"title": title.strip()}), encoding="utf-8")
    files.set_input_files([str(long), str(tmp_path / "season.json")])
    page.wait_for_function("document.querySelector('#qa-archive-report textarea').value === ''")
    page.get_by_label("season.json").wait_for()
    page.get_by_role("button", name="Add to the archive").click()
    page.wait_for_function(
        "document.querySelector('#qa-archive-report textarea').value.includes('Searchable now')",
        timeout=120_000,
    )
    page.get_by_role("grid").get_by_text("The autumn season").last.wait_for()
    widths = page.evaluate(
        "() => { const v = document.querySelector('[role=grid] .virtual-table-viewport');"
        " return [v.scrollWidth, v.clientWidth, document.documentElement.scrollWidth]; }"
    )
    assert widths[0] <= widths[1] and widths[2] <= DESKTOP["width"]
    assert sorted(load(index_dir).documents) == sorted([*before, "season"])  # the refused file is not
    assert main(["remove", "season", "--index", str(index_dir)]) == 0
    assert sorted(load(index_dir).documents) == before
