"""A small archive as a new user makes one: the bundled interview beside four short interviews, one
each as SRT subtitles, WebVTT captions, a Word file and a PDF, and ten plain questions asked in other
words than the interviewers used, each with the words of the answer it must find.

Several answers share the words of another answer's question (a child, the public, visitors), which
is where ordering cards by their quotes alone put another question's answer first (issue 28).
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

from test_formats import pdf_with_lines

from qa.ingest.corpus import BUNDLED_CORPUS

INTERVIEWS = {
    "kelp.srt": (
        "Sam Reed",
        "Ines Alvarez",
        [
            (
                "What first made you want to study the sea?",
                "Honestly, it was my grandmother. She lived in a fishing village near Vigo, and every "
                "summer she walked me down to the rock pools at low tide. I must have been six or seven. "
                "I remember lifting a stone and finding a tiny crab guarding its eggs, and I didn't want "
                "to go home for lunch. That crab is the reason I'm a marine ecologist.",
            ),
            (
                "What is happening to the kelp forests you study?",
                "They're retreating fast. Along the coast we survey, about a third of the kelp canopy "
                "has gone since 2014. Warmer water weakens the kelp, and sea urchins, which used to be "
                "kept in check by otters and large fish, graze what's left down to bare rock. We call "
                "those places urchin barrens.",
            ),
            (
                "What can ordinary people do?",
                "Go and look. Take your children to the shore, turn over a stone, and let them be "
                "curious; a child who has held a starfish grows up caring about the sea. And buy fish "
                "from fisheries that are certified as sustainable. Science needs the public's attention "
                "as much as it needs funding.",
            ),
        ],
    ),
    "rescue.vtt": (
        "Lena Marsh",
        "Tomas Berg",
        [
            (
                "How did you end up in mountain rescue?",
                "By accident, really. Fifteen years ago I broke my ankle on a ridge above the village, "
                "and it was the rescue team that carried me down in the dark. A few months later I "
                "knocked on their door and asked how I could help. I've been a volunteer ever since.",
            ),
            (
                "What is the most common mistake hikers make?",
                "Starting too late. People set off at noon on a route that takes eight hours, and the "
                "light goes before they're off the ridge. After that it's the shoes: trainers on wet "
                "rock. Most of our night call-outs would never happen if people started at dawn.",
            ),
            (
                "How do you train new volunteers?",
                "Every new volunteer spends a year on the team before they go out on a call. They learn "
                "navigation in fog, first aid, and how to lower a stretcher on ropes. We train every "
                "Wednesday evening, whatever the weather.",
            ),
        ],
    ),
    "canteen.docx": (
        "Interviewer",
        "Rosa Lind",
        [
            (
                "How did you change the school's lunches?",
                "We stopped buying ready meals. Now everything is cooked in our own kitchen from fresh "
                "ingredients, most of it from three farms within twenty kilometres. It took two years "
                "to get the budget to work, because fresh food needs more hands in the kitchen.",
            ),
            (
                "Do the children eat the vegetables?",
                "More than they used to. The trick was letting them grow some of them. Every class has "
                "a bed in the school garden, and a child who planted the carrots will eat the carrots. "
                "Waste from the plates has fallen by about half.",
            ),
            (
                "What would you tell other schools?",
                "Start with one dish. We began with soup on Mondays, made from whatever the farms had "
                "that week. Ask the cooks, not only the managers, and give them time to learn. Children "
                "can tell when food is made with care.",
            ),
        ],
    ),
    "library.pdf": (
        "Q",
        "Owen Price",
        [
            (
                "Why are libraries still needed?",
                "Because not everyone has a quiet room, a computer or a printer at home. On a weekday "
                "morning half our visitors come to apply for jobs or fill in forms online. The library "
                "is the last public place where you can stay all day without buying anything.",
            ),
            (
                "What has changed most since you started?",
                "The loans. When I started in 1998 we lent about four hundred thousand books a year; "
                "now it is under half that. But visits have gone up, because people come for the rooms, "
                "the courses and the Wi-Fi rather than only the books.",
            ),
            (
                "What is your favourite part of the job?",
                "The children's reading hour on Saturdays. Watching a child who wouldn't sit still in "
                "September read a whole book aloud by Christmas is the best part of my week.",
            ),
        ],
    ),
}

# (question, the interview, words of the answer it asks for)
QUESTIONS = [
    ("What got the scientist interested in the sea when she was a child?", "kelp", "my grandmother"),
    ("How much of the kelp has disappeared?", "kelp", "about a third of the kelp canopy"),
    ("Why did he join the rescue team?", "rescue", "I broke my ankle"),
    ("What do walkers most often get wrong?", "rescue", "Starting too late"),
    ("How much less food do pupils throw away now?", "canteen", "fallen by about half"),
    ("Where do the canteen's ingredients come from?", "canteen", "three farms within twenty kilometres"),
    ("How many books did the library lend in the late nineties?", "library", "four hundred thousand books"),
    ("What do most people come to the library for on weekday mornings?", "library", "apply for jobs"),
    ("Which city hosts the next SCO summit?", "sco-alimov-tass-2017", "in Qingdao"),
    ("How much of Eurasia does the SCO cover?", "sco-alimov-tass-2017", "61 percent of the territory"),
]


def write_small_archive(folder: Path) -> Path:
    """The five interviews' files in `folder` (made if missing); returns it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in BUNDLED_CORPUS.iterdir():
        shutil.copy(name, folder / name.name)
    for name, (asker, speaker, turns) in INTERVIEWS.items():
        path = folder / name
        if name.endswith(".srt"):
            path.write_text(_subtitles(asker, speaker, turns, srt=True), encoding="utf-8")
        elif name.endswith(".vtt"):
            path.write_text(_subtitles(asker, speaker, turns, srt=False), encoding="utf-8")
        elif name.endswith(".docx"):
            import docx

            word = docx.Document()
            for question, answer in turns:
                word.add_paragraph(f"{asker}: {question}")
                word.add_paragraph(f"{speaker}: {answer}")
            word.save(path)
        else:
            lines = []
            for question, answer in turns:
                lines += [f"{asker}: {question}"] + textwrap.wrap(f"{speaker}: {answer}", 80)
            path.write_bytes(pdf_with_lines(lines))
    return folder


def _subtitles(asker: str, speaker: str, turns, srt: bool) -> str:
    """One cue per sentence, three seconds each: SRT with "Name:" on a turn's first cue, or WebVTT
    with voice tags."""
    cues, clock = [], 1.0
    for question, answer in turns:
        for who, said in ((asker, question), (speaker, answer)):
            for i, sentence in enumerate(_sentences(said)):
                start, end, clock = clock, clock + 2.8, clock + 3.0
                if srt:
                    text = f"{who}: {sentence}" if i == 0 else sentence
                    cues.append(f"{len(cues) + 1}\n{_time(start, ',')} --> {_time(end, ',')}\n{text}\n")
                else:
                    cues.append(f"{_time(start, '.')} --> {_time(end, '.')}\n<v {who}>{sentence}</v>\n")
    return ("" if srt else "WEBVTT\n\n") + "\n".join(cues)


def _sentences(text: str) -> list[str]:
    import re

    return [s for s in re.split(r"(?<=[.?!])\s+", text) if s]


def _time(seconds: float, mark: str) -> str:
    whole, millis = int(seconds), round((seconds % 1) * 1000)
    return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}{mark}{millis:03d}"
