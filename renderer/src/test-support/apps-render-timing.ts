// What the render bench's page (apps-render-bench.ts) answers bench/apps-render.ts: plain
// types, so both the page and the Node side can read them.

/** Main-thread time of one frame, from inside its animation-frame callback. */
export interface FrameTiming {
  /** Until the state was updated and Svelte had applied it to the DOM. */
  scriptMs: number;
  /** Until the frame's style, layout and paint were done (the next task after the frame). */
  frameMs: number;
  /** Whether the changed app's card said its new state when the frame was done. */
  shown: boolean;
}

export interface AppsRenderBench {
  cards(): number;
  /** Stops the `index`th app (in the order the list is shown) and times the frame. */
  change(index: number): Promise<FrameTiming>;
  /** The same frame with nothing changed. */
  idle(): Promise<FrameTiming>;
}
