"""The packaged SmolLM2 is converted from its pip package's GGUF file, parsing that file once."""

from __future__ import annotations

import pytest


def test_the_conversion_reads_the_gguf_once_and_leaves_gguf_as_it_was():
    import gguf

    from recipes.packaged_models import PACKAGED_MODELS, gguf_path, parse_gguf_once

    path = str(gguf_path(PACKAGED_MODELS["smollm2-135m-instruct"]))
    originals = gguf.GGUFReader, gguf.get_tensor_name_map
    with pytest.raises(RuntimeError, match="conversion failed"), parse_gguf_once():
        first = gguf.GGUFReader(path)
        assert gguf.GGUFReader(path) is first  # transformers' later calls reuse the parse
        assert first.fields["general.architecture"].contents() == "llama"
        raise RuntimeError("conversion failed")
    assert (gguf.GGUFReader, gguf.get_tensor_name_map) == originals  # even when the conversion fails
