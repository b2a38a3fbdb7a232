// Judges AG-UI frames with AG-UI's own code, for the server's Java tests: reads a JSON array of the frames one
// client received (stdin), checks every frame with @ag-ui/core's EventSchemas and every run (by
// metadata.agentwire.runId) with @ag-ui/client's verifyEvents. Prints what it checked; exits 1 on the first failure.
import { EventSchemas } from "@ag-ui/core/schemas";
import { verifyEvents } from "@ag-ui/client";
import { from, lastValueFrom, toArray } from "rxjs";

let input = "";
for await (const chunk of process.stdin) {
  input += chunk;
}
const frames = JSON.parse(input);
const runs = new Map();
for (const [i, frame] of frames.entries()) {
  const parsed = EventSchemas.safeParse(frame);
  if (!parsed.success) {
    console.error(`frame ${i} is not an AG-UI event: ${JSON.stringify(frame)}: ${JSON.stringify(parsed.error.issues)}`);
    process.exit(1);
  }
  const runId = frame.metadata?.agentwire?.runId;
  if (runId) {
    runs.set(runId, [...(runs.get(runId) ?? []), frame]);
  }
}
for (const [runId, events] of runs) {
  try {
    await lastValueFrom(from(events).pipe(verifyEvents(false), toArray()));
  } catch (error) {
    console.error(`run ${runId} does not verify: ${error.message}: ${JSON.stringify(events.map((e) => e.type))}`);
    process.exit(1);
  }
}
console.log(`ok: ${frames.length} frames, ${runs.size} runs verified`);
