"""Cold start: answering with the packaged model and an existing index imports none of the heavy libraries that
only a hub model (sentence-transformers → torch, transformers, scikit-learn) or the web UI (gradio) needs, and the
packaged model's numpy path gives the vectors of its sentence-transformers form."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np

HEAVY = ("torch", "sentence_transformers", "transformers", "sklearn", "gradio")

CHILD = f"""
import json, sys
from aidqa import Assistant
answer = Assistant().ask(sys.argv[1])
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY!r})
print(json.dumps({{"answer": answer.answer, "heavy": heavy}}))
"""


def test_asking_from_an_existing_index_imports_no_heavy_library(assistant):
    assistant.ensure_ready()  # the index exists: the child only loads it
    env = {**os.environ, "AIDQA_CORPUS_DIR": str(assistant.settings.corpus_dir),
           "AIDQA_INDEX_DIR": str(assistant.settings.index_dir)}
    child = subprocess.run([sys.executable, "-c", CHILD, "举办了多少场招聘活动？"], env=env, capture_output=True, text=True,
                           timeout=300)
    assert child.returncode == 0, child.stderr
    result = json.loads(child.stdout.splitlines()[-1])
    assert "18场" in result["answer"]
    assert result["heavy"] == []


def test_the_numpy_path_gives_the_sentence_transformers_vectors(assistant):
    model = assistant.embeddings.model
    texts = ["累计投入18.51亿元，实施567个项目。", "How much money did Tianjin invest?", "黄南州"] * 12
    direct = model.encode(texts, batch_size=8, normalize_embeddings=True)
    through_st = model.as_sentence_transformer().encode(texts, batch_size=8, normalize_embeddings=True)
    np.testing.assert_allclose(direct, through_st, atol=1e-5)
