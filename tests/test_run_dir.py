"""Saving a trained adapter: atomic in one process, once and by the main process under accelerate launch."""

from __future__ import annotations

from pathlib import Path

from recipes.run_dir import save_trained


class _Accelerator:
    def __init__(self, processes: int, main: bool):
        self.num_processes, self.is_main_process = processes, main
        self.barriers = 0

    def wait_for_everyone(self):
        self.barriers += 1


class _Trainer:
    """HF Trainer.save_model writes files from the main process only; every rank calls it."""

    def __init__(self, accelerator: _Accelerator, content: str):
        self.accelerator, self.content = accelerator, content

    def save_model(self, path: str):
        Path(path).mkdir(parents=True, exist_ok=True)
        if self.accelerator.is_main_process:
            (Path(path) / "adapter_model.safetensors").write_text(self.content)


def test_one_process_replaces_the_adapter_whole(tmp_path):
    target = tmp_path / "adapter"
    save_trained(_Trainer(_Accelerator(1, True), "v1"), target)
    save_trained(_Trainer(_Accelerator(1, True), "v2"), target)
    assert (target / "adapter_model.safetensors").read_text() == "v2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adapter"]  # no staging or old folders left


def test_other_ranks_never_replace_the_adapter(tmp_path):
    target = tmp_path / "adapter"
    save_trained(_Trainer(_Accelerator(1, True), "before"), target)
    worker = _Accelerator(2, main=False)
    save_trained(_Trainer(worker, "ignored"), target)  # a rank that writes nothing must not swap its empty folder in
    assert (target / "adapter_model.safetensors").read_text() == "before"
    assert worker.barriers == 3
    main = _Accelerator(2, main=True)
    save_trained(_Trainer(main, "after"), target)
    assert (target / "adapter_model.safetensors").read_text() == "after"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adapter"]
