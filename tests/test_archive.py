"""qa add / list / remove: an archive that changes as a whole, embeds only what is new, and loses
nothing to a bad file."""

import json
import threading
from pathlib import Path

import pytest
from conftest import KeywordEmbedder, snapshot
from test_cli import run

from qa.answer.engine import Engine
from qa.archive import add, remove
from qa.documents import QAError
from qa.store import build, load

PANEL = "Question: And the summit?\n\nAnna Berg: The summit was about bread.\n"
SRT = (
    "1\n00:00:01,000 --> 00:00:02,000\nQ: Music?\n\n"
    "2\n00:00:02,500 --> 00:00:04,000\nOla Lind: Music at the border.\n"
)


@pytest.fixture
def archive_dir(tiny_corpus, tmp_path, keyword_embedder):
    index_dir = tmp_path / "index"
    build(tiny_corpus, index_dir, keyword_embedder)
    return index_dir


@pytest.fixture
def incoming(tmp_path, tiny_corpus):
    folder = tmp_path / "incoming"
    (folder / "sub").mkdir(parents=True)
    (folder / "panel.txt").write_text(PANEL, encoding="utf-8")
    (folder / "sub" / "talk.srt").write_text(SRT, encoding="utf-8")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(range(256)) * 4)
    (folder / "copy.txt").write_bytes((tiny_corpus / "tiny.txt").read_bytes())  # tiny, renamed
    (folder / "notes.json").write_text("{}")  # a sidecar without a transcript: not a file to add
    return folder


def every_mode(engine, question):
    return {
        mode: {h.passage.doc_id for h in engine.ask(question, 10, mode).hits}
        for mode in ("dense", "bm25", "hybrid")
    }


def test_qa_add_reports_each_file_goes_on_past_bad_ones_and_indexes_the_good(
    archive_dir, incoming, keyword_embedder, capsys
):
    code, out, err = run(capsys, "add", str(incoming), "--index", str(archive_dir), "--quiet")
    assert code == 1  # two files could not be added
    assert out.splitlines()[:2] == [
        f"added {incoming / 'panel.txt'} as panel (1 passages)",
        f"added {incoming / 'sub' / 'talk.srt'} as talk (1 passages)",
    ]
    assert out.splitlines()[2].startswith(f"index at {archive_dir}: 3 interview(s), 4 passages in ")
    # a file that cannot be read is told as it is read; a duplicate once checked against the archive
    assert err.splitlines() == [
        f"qa: {incoming / 'empty.txt'}: the file is empty",
        f"qa: {incoming / 'image.txt'}: looks like a binary file, not a transcript",
        f"qa: {incoming / 'copy.txt'}: the same interview is already in the archive as 'tiny'; skipped",
    ]
    engine = Engine(load(archive_dir), keyword_embedder)
    assert sorted(engine.index.documents) == ["panel", "talk", "tiny"]
    assert every_mode(engine, "bread summit")["bm25"] == {"panel", "tiny"}
    code, out, _ = run(capsys, "list", "--index", str(archive_dir))
    assert out.splitlines() == [
        "DOC_ID  PASSAGES  FORMAT     TITLE",
        "panel          1  text       panel  (no outlet, published, interviewer)",
        "talk           1  subtitles  talk  (no outlet, published, interviewer)",
        "tiny           2  text       Tiny <b>talk</b>",  # its sidecar says all three
    ]


def test_adding_embeds_only_the_new_text_and_keeps_what_was_there(archive_dir, incoming, keyword_embedder):
    before = load(archive_dir)
    index, _ = add(archive_dir, [incoming / "panel.txt"])
    # the new passage (also its one sentence) and the question "And the summit?"
    assert index.manifest["embedded"]["encoded"] == 2
    assert set(before.passages) < set(index.passages)


def test_a_batch_of_only_bad_files_leaves_the_index_byte_for_byte(archive_dir, incoming, keyword_embedder):
    before = snapshot(archive_dir)
    index, outcomes = add(
        archive_dir, [incoming / "empty.txt", incoming / "image.txt", incoming / "copy.txt"]
    )
    assert index is None and [o.status for o in outcomes] == ["failed", "failed", "skipped"]
    assert snapshot(archive_dir) == before


def test_a_file_named_as_an_interview_there_replaces_it_only_when_asked_to(
    archive_dir, tmp_path, keyword_embedder, capsys
):
    changed = tmp_path / "again" / "tiny.txt"
    changed.parent.mkdir()
    changed.write_text("Question: Anything new?\n\nGuest Speaker: Only music now.\n", encoding="utf-8")
    before = snapshot(archive_dir)
    code, out, err = run(capsys, "add", str(changed), "--index", str(archive_dir), "--quiet")
    assert (code, out) == (1, f"index at {archive_dir} unchanged\n")
    assert err == (
        f"qa: {changed}: an interview named tiny is already in the archive; to replace it, add the file "
        "again with --replace (the page: tick Replace)\n"
    )
    assert snapshot(archive_dir) == before
    index, (outcome,) = add(archive_dir, [changed], replace_existing=True)
    assert (outcome.status, outcome.doc_id) == ("updated", "tiny")
    assert [p.text for p in index.passages] == ["Only music now."]


def test_removing_an_interview_removes_it_from_every_search_and_the_list(
    archive_dir, incoming, keyword_embedder, capsys
):
    add(archive_dir, [incoming / "panel.txt", incoming / "sub"])
    code, out, _ = run(capsys, "remove", "panel", "--index", str(archive_dir))
    assert (code, out) == (0, f"removed panel; index at {archive_dir}: 2 interview(s), 3 passages\n")
    engine = Engine(load(archive_dir), keyword_embedder)
    assert all("panel" not in found for found in every_mode(engine, "bread summit").values())
    assert load(archive_dir).manifest["embedded"]["encoded"] == 0  # nothing embedded to remove
    before = snapshot(archive_dir)
    code, _, err = run(capsys, "remove", "nope", "--index", str(archive_dir))
    assert (code, err) == (
        2,
        f"qa: no interview 'nope' in the index at {archive_dir}; `qa list` shows them\n",
    )
    with pytest.raises(QAError, match="would leave the index at .* empty"):
        remove(archive_dir, ["talk", "tiny"])
    assert snapshot(archive_dir) == before


def test_qa_build_keeps_an_archive_rather_than_rebuilding_it_from_the_bundled_interview(
    archive_dir, incoming, keyword_embedder, capsys
):
    add(archive_dir, [incoming / "panel.txt"])
    code, out, _ = run(capsys, "build", "--index", str(archive_dir), "--quiet", "--no-multilingual")
    assert (code, out) == (0, f"index at {archive_dir} is up to date\n")
    assert sorted(load(archive_dir).documents) == ["panel", "tiny"]
    code, out, _ = run(capsys, "list", "--json", "--index", str(archive_dir))
    assert [json.loads(line)["doc_id"] for line in out.splitlines()] == ["panel", "tiny"]


def test_the_eval_can_be_scoped_to_one_interview(archive_dir, incoming, keyword_embedder, capsys, tmp_path):
    add(archive_dir, [incoming / "panel.txt"])
    eval_set = tmp_path / "set.jsonl"
    eval_set.write_text(
        '{"id": "p1", "question": "bread summit", "gold": ["about bread"]}\n'
        '{"id": "t1", "question": "border treaty", "gold": ["The border treaty was signed."]}\n'
    )
    code, out, _ = run(
        capsys,
        "eval",
        "--eval-set",
        str(eval_set),
        "--interview",
        "panel",
        "--json",
        "--index",
        str(archive_dir),
    )
    report = json.loads(out)
    assert code == 0 and [q["id"] for q in report["per_question"]] == ["p1"]
    assert report["per_question"][0]["retrieved"] == ["panel:1:0"]  # nothing from the other interview
    code, _, err = run(capsys, "eval", "--derived", "--interview", "nope", "--index", str(archive_dir))
    assert (code, err) == (2, "qa: no interview 'nope' in the index; there are: panel, tiny\n")


def test_the_archive_tab_adds_uploads_and_the_page_searches_them_at_once(
    archive_dir, incoming, keyword_embedder, tmp_path
):
    from qa.answer.engine import LiveEngine
    from qa.app.archive_tab import add_files, interviews, remove_interview

    live = LiveEngine(Engine(load(archive_dir), keyword_embedder))
    # uploads arrive each in a folder of its own; a sidecar travels with its transcript by name
    uploads = tmp_path / "uploads"
    for number, (name, data) in enumerate(
        [
            ("panel.txt", (incoming / "panel.txt").read_bytes()),
            ("empty.txt", b""),
            ("panel.json", json.dumps({"outlet": "Example Herald", "published": "2024-05-02"}).encode()),
            ("orphan.json", b"{}"),
        ]
    ):
        (uploads / str(number)).mkdir(parents=True)
        (uploads / str(number) / name).write_bytes(data)
    paths = sorted(str(p) for p in uploads.glob("*/*"))
    said: list[str] = []
    assert add_files(live, paths, say=said.append).splitlines() == [
        "orphan.json: no transcript named orphan was uploaded with it",
        "panel.txt: added as panel (1 passages)",
        "empty.txt: the file is empty",
        "Searchable now: 2 interviews, 3 passages.",
    ]
    # the report grew as it went: the files read (one could not be), the new texts embedded, then
    # (under the archive's write lock) each file checked against the archive and written
    lasts = [shown.splitlines()[-1] for shown in said]
    assert lasts[:2] == ["reading 2 files", "read 1 of 2 files"]
    assert said[1].splitlines()[-2] == "empty.txt: the file is empty"
    assert all(last.startswith("embedding: ") and last.endswith(" new texts") for last in lasts[2:-1])
    assert len(lasts) > 3 and lasts[-1] == "read 2 of 2 files"
    assert live.get().index.documents["panel"]["outlet"] == "Example Herald"
    assert list(uploads.glob("*/*")) == []  # the uploads' temporary copies are gone once read
    assert {h.passage.doc_id for h in live.get().ask("bread", 5, "bm25").hits} == {"panel"}
    assert [row[0] for row in interviews(live.get())] == ["panel", "tiny"]
    assert remove_interview(live, "panel") == "Removed panel: 1 interviews, 2 passages left."
    assert live.get().ask("bread", 5, "bm25").hits == ()
    assert add_files(live, []) == "Choose one or more transcript files first."
    # the same upload sent again (its files were read and deleted) is named, and nothing fails
    assert add_files(live, [paths[0], paths[2]]).splitlines() == [
        "panel.txt: read already (added or refused above); choose the file again to add it",
        "panel.json: read already (added or refused above); choose the file again to add it",
    ]


def test_a_live_engine_moves_to_a_new_complete_index_and_keeps_the_old_while_there_is_none(
    archive_dir, incoming, keyword_embedder
):
    from qa.answer.engine import LiveEngine

    live = LiveEngine(Engine(load(archive_dir), keyword_embedder))
    first = live.get()
    assert live.get() is first  # nothing changed: no reload
    add(archive_dir, [incoming / "panel.txt"])  # as `qa add` in another process would
    assert sorted(live.get().index.documents) == ["panel", "tiny"]
    serving = live.get()
    archive_dir.rename(archive_dir.with_name("elsewhere"))  # mid-swap: no index at the folder
    assert live.get() is serving
    archive_dir.with_name("elsewhere").rename(archive_dir)
    (archive_dir / "passages.jsonl").write_text("damaged\n")  # a broken index never replaces a good one
    (archive_dir / "manifest.json").touch()
    assert live.get() is serving


def test_an_upload_s_file_name_cannot_reach_outside_the_index(archive_dir, tmp_path, keyword_embedder):
    from qa.ingest.corpus import doc_id_for

    assert doc_id_for(Path("../../etc/passwd.txt")) == "passwd"
    assert doc_id_for(Path("/abs/a b:c<d>.txt")) == "a-b-c-d"
    assert doc_id_for(Path("....txt")) == "interview"
    odd = tmp_path / "up" / "..%2F..%2Fevil:1.txt"
    odd.parent.mkdir()
    odd.write_text("Question: Bread?\n\nJo: Bread and music.\n", encoding="utf-8")
    outside = sorted(p for p in tmp_path.parent.rglob("*") if archive_dir not in p.parents)
    index, (outcome,) = add(archive_dir, [odd])
    assert outcome.doc_id == "2F..-2Fevil-1" and outcome.doc_id in index.documents
    assert sorted(p for p in tmp_path.parent.rglob("*") if archive_dir not in p.parents) == outside


def test_qa_build_with_another_embedder_rebuilds_an_archive_from_its_own_interviews(
    archive_dir, incoming, keyword_embedder, capsys, monkeypatch
):
    from conftest import KeywordEmbedder

    from qa.embed import embedders

    class Other(KeywordEmbedder):
        name = "test-keywords-2"

    monkeypatch.setitem(embedders.EMBEDDERS, Other.name, Other)
    add(archive_dir, [incoming / "panel.txt"])
    args = ("build", "--index", str(archive_dir), "--quiet", "--no-multilingual", "--embedder", Other.name)
    code, out, err = run(capsys, *args)
    assert code == 0 and "built with embedder test-keywords 1, not test-keywords-2 1" in err
    rebuilt = load(archive_dir)
    assert rebuilt.manifest["embedder"]["name"] == Other.name and sorted(rebuilt.documents) == [
        "panel",
        "tiny",
    ]
    assert run(capsys, *args)[1] == f"index at {archive_dir} is up to date\n"


def test_a_live_engine_takes_the_model_a_rebuilt_index_was_made_with(archive_dir, tiny_corpus, monkeypatch):
    from conftest import KeywordEmbedder

    from qa.answer.engine import LiveEngine
    from qa.embed import embedders

    class Other(KeywordEmbedder):
        name = "test-keywords-2"

    monkeypatch.setitem(embedders.EMBEDDERS, Other.name, Other)
    live = LiveEngine(Engine(load(archive_dir), KeywordEmbedder()))
    build(tiny_corpus, archive_dir, Other())
    assert live.get().embedder.name == "test-keywords-2"


def test_an_archive_keeps_its_way_of_reading_sentences(tmp_path, incoming, monkeypatch):
    from conftest import InContext

    from qa.embed import embedders
    from qa.embed.vectors import Scoring

    monkeypatch.setitem(embedders.EMBEDDERS, InContext.name, InContext)
    archive = tmp_path / "archive"
    in_context = Scoring(sentences="in-context")
    add(archive, [incoming / "panel.txt"], embedder=InContext(), multilingual=False, scoring=in_context)
    index, _ = add(archive, [incoming / "copy.txt"])  # no settings given: the archive's own
    assert index.scoring == in_context and index.manifest["embedder"]["name"] == "test-in-context"
    assert remove(archive, ["panel"]).scoring == in_context


# Two speakers alike: nobody asks, neither is brief beside the other. Who is the interviewer?
UNCLEAR = (
    "VARGA: History is a debt, Mr President, and your government has not paid it.\n\n"
    "KOVACS: History is what we leave to our children.\n\n"
    "VARGA: The border with the north has been a quarrel for a century.\n\n"
    "KOVACS: The border was drawn in 1920 and stays.\n"
)


def test_a_transcript_whose_asker_is_unclear_says_so_and_interviewer_settles_it(
    archive_dir, tmp_path, keyword_embedder, capsys
):
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    (incoming / "president.txt").write_text(UNCLEAR, encoding="utf-8")
    code, out, err = run(capsys, "add", str(incoming), "--index", str(archive_dir), "--quiet")
    # nothing says who asks (no Q: label, no byline, nothing asked, turns alike): all four are answers
    assert code == 0
    assert out.splitlines()[0] == (
        f"added {incoming / 'president.txt'} as president (4 passages; who asks is unclear, so every "
        "turn is indexed as an answer: give the interviewer's name)"
    )
    assert err == (
        f"qa: {incoming / 'president.txt'}: to say who asks, add it again with --replace --interviewer NAME\n"
    )
    code, out, err = run(
        capsys, "add", str(incoming), "--index", str(archive_dir), "--quiet", "--interviewer", "Tom Varga"
    )
    # the same text is already there, so it is skipped; --replace reads it again
    assert code == 0 and "already in the archive" in err
    code, out, err = run(
        capsys,
        "add",
        str(incoming),
        "--index",
        str(archive_dir),
        "--quiet",
        "--replace",
        "--interviewer",
        "Tom Varga",
    )
    assert out.splitlines()[0] == f"updated {incoming / 'president.txt'} as president (2 passages)"
    index = load(archive_dir)
    theirs = [p for p in index.passages if p.doc_id == "president"]
    assert [(p.speaker, p.in_answer_to) for p in theirs] == [
        ("KOVACS", "History is a debt, Mr President, and your government has not paid it."),
        ("KOVACS", "The border with the north has been a quarrel for a century."),
    ]
    assert index.documents["president"]["interviewer"] == "Tom Varga"


def test_each_card_s_citation_says_what_the_transcript_itself_says_and_no_more(
    archive_dir, tmp_path, keyword_embedder
):
    from test_parsing import NEWS_PAGE

    from qa.answer.answers import citation

    incoming = tmp_path / "incoming"
    incoming.mkdir()
    # a news page: byline, dateline and rights line; a bare transcript: a headline and nothing else
    (incoming / "harbour.txt").write_text(
        NEWS_PAGE.replace("By Jane Holm\n", "By Jane Holm\nMarch 3, 2024\n")
    )
    (incoming / "ferries.txt").write_text(
        "Ferry chief on the storm season\n\nQ: Did the storms stop the ferries?\n\n"
        "Ola Lind: The storms stopped the ferries for a month.\n"
    )
    index, _ = add(archive_dir, [incoming])
    engine = Engine(index, keyword_embedder)
    cards = {card.source.doc_id: card for card in engine.ask("dredging ferries storms", 5, "bm25").cards}
    assert citation(cards["harbour"]) == (
        '"The dredging starts in March." - Petersen, Example Herald, 2024-03-03'
    )
    # no outlet, no date: the headline says which interview, and nothing is made up
    assert citation(cards["ferries"]) == (
        '"The storms stopped the ferries for a month." - Ola Lind, “Ferry chief on the storm season”'
    )


def test_links_out_of_a_folder_being_added_are_not_followed(archive_dir, tmp_path, keyword_embedder):
    outside = tmp_path / "private"
    outside.mkdir()
    (outside / "secret.txt").write_text("Question: Secret?\n\nAnna Berg: The secret bread recipe.\n")
    folder = tmp_path / "incoming"
    folder.mkdir()
    (folder / "panel.txt").write_text(PANEL, encoding="utf-8")
    (folder / "alias.txt").symlink_to(folder / "panel.txt")  # inside: followed (and a duplicate)
    (folder / "secret.txt").symlink_to(outside / "secret.txt")
    (folder / "more").symlink_to(outside, target_is_directory=True)
    index, outcomes = add(archive_dir, [folder])
    assert sorted((o.path.name, o.status) for o in outcomes) == [
        ("alias.txt", "added"),
        ("panel.txt", "skipped"),
    ]
    assert sorted(index.documents) == ["alias", "tiny"]


def test_the_upload_report_shows_its_first_state_at_once_then_the_latest_of_each_burst():
    import queue

    from qa.app.archive_tab import shown

    said: queue.Queue = queue.Queue()
    for state in ("reading 2 files", "read 1 of 2 files", "read 2 of 2 files", "embedding: 5 of 9", None):
        said.put(state)
    # all said at once: the first, then only the latest of the rest
    assert list(shown(said, 0)) == ["reading 2 files", "embedding: 5 of 9"]
    said.put("reading 1 file")
    said.put(None)
    assert list(shown(said, 0)) == ["reading 1 file"]


def test_a_word_file_built_to_unpack_is_one_line_and_the_rest_of_the_batch_goes_in(
    tmp_path, keyword_embedder, capsys
):
    from test_formats import word_file

    hostile = tmp_path / "in" / "hostile.docx"
    hostile.parent.mkdir()
    word_file(hostile, b"<w:document><w:body>" + b"<w:p><w:r><w:t>a</w:t></w:r></w:p>" * 370_000)
    (tmp_path / "in" / "good.txt").write_text(
        "Question: What about the border?\n\nGuest Speaker: The border treaty was signed.\n", encoding="utf-8"
    )
    index = tmp_path / "index"
    code, out, err = run(capsys, "add", str(tmp_path / "in"), "--index", str(index), "--quiet")
    assert code == 1
    assert out.splitlines()[0] == f"added {tmp_path / 'in' / 'good.txt'} as good (1 passages)"
    (line,) = err.splitlines()
    assert line.startswith(f"qa: {hostile}: its XML unpacks to ") and line.endswith(" (limit 100); not read")


def test_a_file_is_read_and_embedded_before_the_write_lock_so_a_slow_one_keeps_no_writer_waiting(
    archive_dir, incoming, keyword_embedder, monkeypatch
):
    # the writer in thread "slow" is held inside the embedding of its file's texts
    inside, go_on = threading.Event(), threading.Event()
    encode = KeywordEmbedder.encode

    def held(self, texts, *, progress=False):
        if threading.current_thread().name == "slow":
            inside.set()
            go_on.wait(30)
        return encode(self, texts, progress=progress)

    monkeypatch.setattr(KeywordEmbedder, "encode", held)
    slow: list = []
    thread = threading.Thread(
        target=lambda: slow.append(add(archive_dir, [incoming / "panel.txt"])), name="slow", daemon=True
    )
    thread.start()
    assert inside.wait(30)
    # meanwhile another writer takes the lock at once and adds its file
    _, outcomes = add(archive_dir, [incoming / "sub" / "talk.srt"])
    assert [(o.doc_id, o.status) for o in outcomes] == [("talk", "added")]
    assert thread.is_alive() and not slow  # it finished while the slow one was still embedding
    go_on.set()
    thread.join(30)
    index, outcomes = slow[0]
    assert [(o.doc_id, o.status) for o in outcomes] == [("panel", "added")]
    # the slow writer merged into what the other left: both interviews are there
    assert sorted(load(archive_dir).documents) == ["panel", "talk", "tiny"]
    # the texts it embedded ahead count as embedded, the archive's own as reused
    assert index.manifest["embedded"]["encoded"] == 2  # panel's passage (its sentence within) and question


def test_an_add_parses_only_its_own_files_and_the_archive_keeps_the_passages_it_holds(
    archive_dir, incoming, keyword_embedder, monkeypatch
):
    import qa.archive
    import qa.store.folder_store

    parsed: list[str] = []
    parse = qa.archive.parse_turns
    for where in (qa.archive, qa.store.folder_store):  # reading the files, and writing the archive
        monkeypatch.setattr(where, "parse_turns", lambda d: parsed.append(d.doc_id) or parse(d))
    before = load(archive_dir).passages
    add(archive_dir, [incoming / "panel.txt"])
    assert parsed == ["panel"]  # the archive's own interview is not parsed again under the lock
    after = load(archive_dir)
    assert [p for p in after.passages if p.doc_id == "tiny"] == list(before)
    # an archive another qa version wrote may chunk otherwise: its interviews are parsed again
    manifest = json.loads((archive_dir / "manifest.json").read_text())
    monkeypatch.setattr(qa.store.folder_store, "__version__", manifest["qa_version"] + ".next")
    parsed.clear()
    add(archive_dir, [incoming / "sub" / "talk.srt"])
    assert sorted(parsed) == ["panel", "talk", "tiny"]
