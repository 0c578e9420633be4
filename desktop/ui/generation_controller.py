"""Runs generations for the window: builds the job from the frame, follows it through the engine
client, shows the live preview in the frame, and lands the results as new layers (one undo step)
or, for a batch, as candidates to keep or discard. Each image of a batch becomes a candidate as soon
as the engine has made it, so a batch cancelled or failing midway keeps the images already made."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from sfumato.core.api import (
    Cancelled,
    Event,
    Failed,
    Finished,
    ImageReady,
    Mode,
    Recipe,
    SfumatoError,
    Started,
    Step,
)
from sfumato.core.models.addon_library import checked_prompt_addons
from sfumato.desktop.document import Document, Layer, Rect
from sfumato.desktop.document.commands import ChangeLayerStack
from sfumato.desktop.engine_client import EngineClient
from sfumato.desktop.ui.canvas import CanvasView
from sfumato.desktop.ui.document_host import DocumentHost
from sfumato.desktop.ui.generation_panel import GenerationPanel
from sfumato.desktop.ui.generation_plan import Plan, automatic_mode, plan_generation, settings_from_recipe
from sfumato.desktop.ui.hires_strategy import hires_strategy

MODE_REFRESH_MS = 150


@dataclass
class Candidate:
    image: np.ndarray
    recipe: Recipe
    rect: Rect  # the frame it was made for


@dataclass
class Submitted:
    plan: Plan
    document: Document
    ready: dict[int, Candidate] = field(default_factory=dict)  # images made so far, by index

    @property
    def is_batch(self) -> bool:
        """A batch's images become candidates; a single image lands as a layer when the job finishes."""
        return self.plan.job.batch > 1

    def candidate(self, image: np.ndarray, recipe: Recipe) -> Candidate:
        return Candidate(image, recipe, self.plan.rect)


class GenerationController(QObject):
    message = Signal(str)  # for the status bar
    error = Signal(str)  # for a message box
    model_used = Signal(str)
    candidates_changed = Signal()

    def __init__(
        self,
        client: EngineClient,
        host: DocumentHost,
        panel: GenerationPanel,
        canvas: CanvasView,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.client, self.host, self.panel, self.canvas = client, host, panel, canvas
        self.submitted: dict[str, Submitted] = {}
        self.candidates: list[Candidate] = []
        self.candidate_index = 0
        self._candidate_document: Document | None = None
        self._mode_timer = QTimer(self, singleShot=True, interval=MODE_REFRESH_MS)
        self._mode_timer.timeout.connect(self._refresh_automatic_mode)
        panel.generate_requested.connect(self.generate)
        panel.cancel_requested.connect(self.cancel)
        boxes = panel.candidates
        boxes.step.connect(self.step_candidate)
        boxes.chosen.connect(self.choose_candidate)
        boxes.keep.connect(self.keep_candidate)
        boxes.keep_all.connect(self.keep_all_candidates)
        boxes.discard.connect(self.discard_candidate)
        boxes.discard_all.connect(self.discard_all_candidates)
        client.engine_event.connect(self._on_event)
        host.changed.connect(lambda _change: self._mode_timer.start())
        host.replaced.connect(self._on_replaced)
        panel.models.model_chosen.connect(lambda _model: self._refresh_automatic_mode())
        self._refresh_automatic_mode()

    # ---- starting and stopping -----------------------------------------------------------------

    def generate(self) -> str | None:
        """Queue a generation into the frame; returns its job id (None when it could not start)."""
        document = self.host.document
        settings = self.panel.settings()
        try:
            checked_prompt_addons(settings.model, settings.prompt, settings.negative)
        except SfumatoError as error:
            self.panel.show_prompt_problem(error.message)
            self.message.emit("Not generated: the prompt names an add-on that cannot be used")
            return None
        return self._submit(lambda: plan_generation(document, settings))

    def reroll(self, layer: Layer) -> str | None:
        """Make `layer` again from its recipe with a new seed, from what lies beneath it."""
        recipe = layer.recipe
        if recipe is None:
            self.error.emit(f"“{layer.name}” was not generated, so it has no recipe to re-roll.")
            return None
        models = self.panel.models
        model = recipe.model if recipe.model in models.models() else models.model()
        settings = settings_from_recipe(recipe, model)
        document = self.host.document
        return self._submit(lambda: plan_generation(document, settings, rect=layer.rect, without=layer))

    def _submit(self, make_plan: Callable[[], Plan]) -> str | None:
        document = self.host.document
        try:
            plan = make_plan()
            job_id = self.client.submit(plan.job)
        except SfumatoError as error:
            self.error.emit(error.message)
            return None
        self.submitted[job_id] = Submitted(plan, document)
        self.model_used.emit(plan.job.model)
        self.panel.set_running(True)
        waiting = len(self.client.waiting())
        self.message.emit(f"Queued ({waiting} waiting)" if waiting else f"Generating ({plan.mode.value})")
        return job_id

    def cancel(self) -> bool:
        """Stop the running generation; returns whether there was one."""
        running = self.client.running
        if running is None or running not in self.submitted:
            return False
        self.client.cancel(running)
        return True

    @property
    def busy(self) -> bool:
        return bool(self.submitted)

    # ---- engine events -------------------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        if event.job_id not in self.submitted:
            return  # another panel's job, or one from before a restart
        match event:
            case Started():
                self.panel.set_running(True)
                self.panel.set_progress(0.0, "Starting…")
            case Step():
                self._on_step(event)
            case ImageReady(job_id, index, image, recipe):
                self._on_image_ready(job_id, index, image, recipe)
            case Finished(job_id, images, recipes):
                self._on_finished(job_id, images, recipes)
            case Failed(job_id, message=message):
                if (submitted := self._end(job_id)) is not None:
                    self.error.emit(message)
                    if kept := self._keep_what_was_made(submitted):
                        self.message.emit(f"Generation failed; {kept}")
            case Cancelled(job_id):
                if (submitted := self._end(job_id)) is not None:
                    kept = self._keep_what_was_made(submitted)
                    self.message.emit(f"Generation cancelled; {kept}" if kept else "Generation cancelled")
            case _:
                pass

    def _on_step(self, step: Step) -> None:
        total, image, images = step.total, step.image, step.images
        fraction = (image * total + step.step) / max(images * total, 1)
        text = f"Step {step.step} of {total}" + (f" · image {image + 1} of {images}" if images > 1 else "")
        self.panel.set_progress(fraction, text)
        submitted = self.submitted[step.job_id]
        if step.preview is not None and submitted.document is self.host.document and not self.candidates:
            self.canvas.set_frame_image(step.preview, submitted.plan.rect)

    def _on_image_ready(self, job_id: str, index: int, image: np.ndarray, recipe: Recipe) -> None:
        submitted = self.submitted[job_id]
        candidate = submitted.ready[index] = submitted.candidate(image, recipe)
        if submitted.is_batch:
            self._offer(submitted, [candidate])

    def _on_finished(self, job_id: str, images: tuple[np.ndarray, ...], recipes: tuple[Recipe, ...]) -> None:
        submitted = self._end(job_id)
        if submitted is None or not images:
            return
        self.panel.remember_seed(recipes[0].seed)
        if submitted.document is not self.host.document:
            self.message.emit(
                "A generation finished for a document that is no longer open; it was set aside."
            )
            return
        if not submitted.is_batch:
            rect = submitted.plan.rect
            layer = submitted.document.add_generated_layer(images[0], recipes[0], x=rect.x, y=rect.y)
            self.message.emit(f"Added layer '{layer.name}'")
            return
        # Images already offered as they were made are not offered again.
        made = enumerate(zip(images, recipes, strict=True))
        self._offer(
            submitted, [submitted.candidate(*pair) for index, pair in made if index not in submitted.ready]
        )
        self.message.emit(f"{len(images)} candidates: keep the ones you like")

    def _keep_what_was_made(self, submitted: Submitted) -> str:
        """After a job ended early, the images it made stay on offer; says so ("" when there are none).
        A batch's are on offer already; a single image is offered rather than put in the document."""
        if not submitted.ready or submitted.document is not self.host.document:
            return ""
        if not submitted.is_batch:
            self._offer(submitted, list(submitted.ready.values()))
        count = len(submitted.ready)
        if count == 1:
            return "the image it made is kept as a candidate"
        return f"the {count} images it made are kept as candidates"

    def _offer(self, submitted: Submitted, candidates: list[Candidate]) -> None:
        """Add `candidates` after those already waiting; the one shown stays shown."""
        if submitted.document is not self.host.document or not candidates:
            return
        if self._candidate_document is not submitted.document:
            self.candidates, self.candidate_index = [], 0
        self._candidate_document = submitted.document
        self.candidates.extend(candidates)
        self._show_candidate()

    def _end(self, job_id: str) -> Submitted | None:
        submitted = self.submitted.pop(job_id, None)
        if submitted is None:
            return None
        if not self.submitted:
            self.panel.set_running(False)
        if not self.candidates:
            self.canvas.set_frame_image(None)
        return submitted

    # ---- candidates ----------------------------------------------------------------------------

    def _show_candidate(self) -> None:
        if self._candidate_document is not self.host.document:
            self.candidates = []
        if not self.candidates:
            self.canvas.set_frame_image(None)
        else:
            self.candidate_index %= len(self.candidates)
            candidate = self.candidates[self.candidate_index]
            self.canvas.set_frame_image(candidate.image, candidate.rect)
        self.panel.candidates.show_candidates(
            [candidate.image for candidate in self.candidates], self.candidate_index
        )
        self.candidates_changed.emit()

    def step_candidate(self, direction: int) -> None:
        if self.candidates:
            self.candidate_index = (self.candidate_index + direction) % len(self.candidates)
            self._show_candidate()

    def choose_candidate(self, index: int) -> None:
        if 0 <= index < len(self.candidates):
            self.candidate_index = index
            self._show_candidate()

    def keep_candidate(self) -> None:
        if not self.candidates:
            return
        candidate = self.candidates.pop(self.candidate_index)
        rect = candidate.rect
        self.host.document.add_generated_layer(candidate.image, candidate.recipe, x=rect.x, y=rect.y)
        self._show_candidate()

    def keep_all_candidates(self) -> None:
        """Every remaining candidate as a layer, in one undo step."""
        if not self.candidates:
            return
        document = self.host.document
        # Layers made the way single results are (same names, same pixels), then added in one step.
        scratch = Document()
        added: list[Layer] = [
            scratch.add_generated_layer(
                candidate.image, candidate.recipe, x=candidate.rect.x, y=candidate.rect.y
            )
            for candidate in self.candidates
        ]
        stack = list(document.layers)
        above = (
            document.index_of(document.active_layer) + 1 if document.active_layer is not None else len(stack)
        )
        stack[above:above] = added
        document.execute(ChangeLayerStack(document, stack, added[-1], "Keep candidates"))
        self.candidates = []
        self._show_candidate()

    def discard_candidate(self) -> None:
        if self.candidates:
            self.candidates.pop(self.candidate_index)
            self._show_candidate()

    def discard_all_candidates(self) -> None:
        self.candidates = []
        self._show_candidate()

    # ---- mode ----------------------------------------------------------------------------------

    def _on_replaced(self, _document: Document) -> None:
        self.candidates = []
        self._show_candidate()
        self._mode_timer.start()

    def _refresh_automatic_mode(self) -> None:
        self.panel.set_automatic_mode(self.automatic_mode())
        frame = self.host.document.frame
        self.panel.show_strategy(hires_strategy(self.panel.models.model(), frame.width, frame.height))

    def automatic_mode(self) -> Mode:
        return automatic_mode(self.host.document)
