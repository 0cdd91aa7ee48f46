/**
 * The public change event contract, table-to-topic routing and the subscription runtime that every consumer uses.
 * Depends on no other pipeline module: capture and the consumers depend on it.
 *
 * <p>Capture builds a {@link dev.changeflow.router.ChangeEvent} per row change and publishes what
 * {@link dev.changeflow.router.TopicRouter#route} makes of it:
 *
 * <pre>{@code
 * TopicRouter router = TopicRouter.fromSettings(Settings.fromEnvironment());
 * ChangeEvent event = ChangeEvent.of(Op.UPDATE, "tasks", Map.of("id", id), before, after,
 *         new Source(lsn, txId, commitTs, false));
 * RoutedChange record = router.route(event);   // topic cdc.tasks-changes, key "tasks:<id>"
 * }</pre>
 *
 * <p>Consumers subscribe with {@link dev.changeflow.router.subscription.Subscription}, which decodes and
 * schema-checks each record ({@link dev.changeflow.router.ChangeEventCodec#decodeChecked}), keeps per-partition order,
 * commits after the handler's effect, and sends what cannot be handled to
 * {@link dev.changeflow.router.TopicRouter#deadLetterTopicFor}. Handlers deduplicate on
 * {@link dev.changeflow.router.ChangeEvent#eventId()} where a repeat matters.
 * The contract itself is documented in {@code docs/change-event.md}.
 */
package dev.changeflow.router;
