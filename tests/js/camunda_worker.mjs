// Camunda's own Node external-task client (camunda-external-task-client-js), unchanged, against
// Legato's /engine-rest. Handles `count` tasks of the topic, one way per task by its `amount`:
// 1 extends the lock then completes with typed variables, 2 throws a BPMN error, 3 fails with
// no retries left, 4 unlocks (once). Prints one JSON line per task handled, then exits.
import { Client, Variables } from "camunda-external-task-client-js";
const [baseUrl, token, topic, count] = process.argv.slice(2);
const bearer = (config) => ({ ...config, headers: { ...config.headers, Authorization: `Bearer ${token}` } });
const client = new Client({
  baseUrl,
  workerId: "js-worker",
  interceptors: [bearer],
  asyncResponseTimeout: 2000,
  maxTasks: 1,
  lockDuration: 20000,
});
let handled = 0;
let unlockedOnce = false;
const done = () => {
  handled += 1;
  if (handled >= Number(count)) {
    client.stop();
    setTimeout(() => process.exit(0), 100);
  }
};
client.on("complete:error", (task, error) => { console.error("complete failed", error.message); process.exit(3); });
client.on("poll:error", (error) => { console.error("poll failed", error.message); process.exit(4); });
client.subscribe(topic, async ({ task, taskService }) => {
  const amount = task.variables.get("amount");
  const seen = { id: task.id, amount, topic: task.topicName, businessKey: task.businessKey ?? null };
  if (amount === 1) {
    await taskService.extendLock(task, 60000);
    const result = new Variables().set("approved", true).setTyped("meta", { type: "Json", value: JSON.stringify({ by: "js" }), valueInfo: {} });
    await taskService.complete(task, result);
    console.log(JSON.stringify({ ...seen, did: "complete" }));
  } else if (amount === 2) {
    await taskService.handleBpmnError(task, "INVOICE_INVALID", "the js worker says invalid");
    console.log(JSON.stringify({ ...seen, did: "bpmnError" }));
  } else if (amount === 3) {
    await taskService.handleFailure(task, { errorMessage: "js failure", errorDetails: "a stack", retries: 0, retryTimeout: 0 });
    console.log(JSON.stringify({ ...seen, did: "failure" }));
  } else if (amount === 4 && !unlockedOnce) {
    unlockedOnce = true;
    await taskService.unlock(task);
    console.log(JSON.stringify({ ...seen, did: "unlock" }));
    return; // fetched again later: completed then
  } else {
    await taskService.complete(task);
    console.log(JSON.stringify({ ...seen, did: "complete" }));
  }
  done();
});
