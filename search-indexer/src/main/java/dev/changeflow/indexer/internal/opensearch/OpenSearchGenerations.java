package dev.changeflow.indexer.internal.opensearch;

import dev.changeflow.indexer.index.DocumentType;
import dev.changeflow.indexer.index.IndexGenerations;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.opensearch.client.opensearch.indices.GetIndexResponse;
import org.opensearch.client.opensearch.indices.IndexSettings;
import org.opensearch.client.opensearch.indices.IndexState;
import org.opensearch.client.opensearch.indices.UpdateAliasesResponse;
import org.opensearch.client.opensearch.indices.update_aliases.Action;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Generations of the search index on an OpenSearch cluster, under one index prefix (the configured
 * {@code changeflow.indexer.index-prefix}, here {@code changeflow-}):
 * <pre>
 * changeflow-tasks-g2, changeflow-projects-g2   generation gen-2: one index per document type
 * changeflow-tasks, changeflow-projects         aliases of the current generation's indices
 * </pre>
 * Before the first rebuild, {@code changeflow-tasks} and {@code changeflow-projects} are plain indices: the
 * {@link #LEGACY} generation, which {@link #openCurrent} creates when nothing exists.
 *
 * <p><b>Names.</b> The current generation's index, as {@link #openCurrent} returns it, reads and writes through the
 * names {@code <prefix><table>}: the plain indices, or the aliases. A generation {@link #create}d for a rebuild reads
 * and writes its own indices {@code <prefix><table>-g<n>}, created empty with the current settings and mapping, until
 * {@link #promote} makes it current; from then on it too addresses the aliases. So every current index follows every
 * switch, including one made by another indexer on the same prefix.
 *
 * <p><b>Switch.</b> {@link #promote} is one {@code _aliases} request, which OpenSearch applies atomically: for each
 * type it adds the alias {@code <prefix><table>} to the new generation's index and removes it from the old one's
 * ({@code must_exist}: if another indexer switched meanwhile, nothing changes and it fails), or, when the old one is
 * {@link #LEGACY}, removes the plain index ({@code remove_index}), which cannot coexist with an alias of its name.
 * No search or write through those names ever finds no index. Before the request it checks that the aliases still
 * point at the generation being replaced and that the new generation's indices are the very ones it created (same
 * UUIDs, not recreated by a write after another indexer's start deleted them). A request whose outcome is unknown
 * (a timeout) is decided by reading the aliases again.
 *
 * <p><b>Clean-up.</b> {@link #delete} deletes a generation's indices after the switch, refusing indices the aliases
 * point at; a plain index was already removed by the switch. {@link #openCurrent} deletes every generation index the
 * aliases do not point at: what a rebuild that did not finish, or a deletion that failed, left. Several indexers may
 * share a prefix, but none should start while another rebuilds: the start deletes the generation being built, and
 * that rebuild then fails at its switch.
 *
 * <p>Thread-safe; only one rebuild at a time may {@link #create} and {@link #promote}. Requests on indices and aliases
 * use a short-lived HTTP client of their own, or the generation's; nothing is left to close.
 */
public final class OpenSearchGenerations implements IndexGenerations {
    private static final Logger LOG = LoggerFactory.getLogger(OpenSearchGenerations.class);
    private static final Pattern GENERATION = Pattern.compile("gen-([1-9][0-9]{0,17})");
    /** Between an index's type name and its generation's number: {@code changeflow-tasks-g3}. */
    static final String SUFFIX = "-g";

    private final String indexPrefix;
    private final Function<String, OpenSearchIndex> indices;
    private final String description;
    /** The UUIDs of the indices of each generation {@link #create} made and that is not deleted; guarded by this. */
    private final Map<String, Map<DocumentType, String>> created = new HashMap<>();

    /**
     * Generations on the cluster at {@code url}; the parameters are {@link OpenSearchIndex}'s, checked here. Nothing is
     * connected before {@link #openCurrent}.
     *
     * @throws IllegalArgumentException naming the parameter and the value given if one is out of range
     */
    public OpenSearchGenerations(URI url, String username, String password, String indexPrefix, int shards,
            int replicas, String refreshInterval, Duration requestTimeout) {
        this(indexPrefix, suffix -> new OpenSearchIndex(url, username, password, indexPrefix, suffix, shards,
                replicas, refreshInterval, requestTimeout));
    }

    /** @param indices makes a new, unopened index whose names end with the suffix given */
    OpenSearchGenerations(String indexPrefix, Function<String, OpenSearchIndex> indices) {
        this.indices = Objects.requireNonNull(indices, "indices");
        OpenSearchIndex probe = indices.apply(""); // checks every parameter
        this.description = probe.describe();
        probe.close();
        this.indexPrefix = indexPrefix;
    }

    /**
     * Reads which generation the aliases point at, deletes every other generation's indices, and opens the current
     * generation, addressed through the names {@code <prefix><table>}. Without aliases that is {@link #LEGACY}: the
     * plain indices, created if missing.
     *
     * @throws OpenSearchUnavailableException if OpenSearch is unavailable (call again later)
     * @throws IllegalStateException if the aliases of the types point at different generations, or one at several
     *     (set by hand: the message says how they stand)
     */
    @Override
    public synchronized Generation openCurrent() {
        OpenSearchIndex current = indices.apply("");
        try {
            Layout layout = read(current);
            long number = layout.current();
            List<String> stale = new ArrayList<>();
            layout.generations.forEach((type, generations) -> generations.keySet().stream()
                    .filter(n -> n != number).forEach(n -> stale.add(indexName(type, n))));
            if (!stale.isEmpty()) {
                LOG.info("Deleting the indices {}: not the current generation (left by a rebuild)", stale);
                deleteIndices(current, stale);
            }
            current.open();
            return new Generation(name(number), current);
        } catch (RuntimeException e) {
            current.close();
            throw e;
        }
    }

    /**
     * Creates the indices {@code <prefix><table>-g<n>} of a new generation, {@code n} above every generation's number
     * on the cluster, with the settings and mapping of {@link OpenSearchIndex#open()}, and returns it open. Nothing
     * searches it: the aliases do not point at it.
     *
     * @throws OpenSearchUnavailableException if OpenSearch is unavailable
     * @throws OpenSearchRefusedException if an index of that name exists already (another indexer created it at the
     *     same time) or OpenSearch refuses; indices created before the failure are left to the next start
     */
    @Override
    public synchronized Generation create() {
        long number = withAdmin(admin -> read(admin).highest()) + 1;
        String name = name(number);
        OpenSearchIndex index = indices.apply(SUFFIX + number);
        try {
            index.openNew();
            Map<DocumentType, String> uuids = new EnumMap<>(DocumentType.class);
            Layout layout = read(index);
            for (DocumentType type : DocumentType.values()) {
                uuids.put(type, layout.uuid(type, number));
            }
            created.put(name, uuids);
            LOG.info("Created generation {} of the search index: {}", name, uuids.keySet().stream()
                    .map(type -> indexName(type, number)).toList());
            return new Generation(name, index);
        } catch (RuntimeException e) {
            index.close();
            throw e;
        }
    }

    /**
     * Points the aliases {@code <prefix><table>} at {@code next}'s indices in one atomic {@code _aliases} request,
     * removing them from {@code current}'s indices, or removing {@code current}'s plain indices if it is
     * {@link #LEGACY}; then {@code next}'s index addresses the aliases. Durable once it returns: the aliases are
     * cluster state.
     *
     * @throws IllegalArgumentException if {@code next} is not a generation this object created, or was deleted
     * @throws IllegalStateException if the aliases do not point at {@code current} (another indexer switched), or
     *     {@code next}'s indices are not those created for it; nothing changed
     * @throws OpenSearchUnavailableException if OpenSearch is unavailable and the aliases, read again, were not
     *     switched
     */
    @Override
    public synchronized void promote(Generation current, Generation next) {
        Map<DocumentType, String> uuids = created.get(next.name());
        if (uuids == null || !(next.index() instanceof OpenSearchIndex index)) {
            throw new IllegalArgumentException(next.name() + " is not a generation these generations created");
        }
        long from = number(current.name());
        long to = number(next.name());
        Layout before = read(index);
        if (before.current() != from) {
            throw new IllegalStateException("the aliases " + aliases() + " point at " + name(before.current())
                    + ", not at " + current.name() + ": another indexer switched");
        }
        for (DocumentType type : DocumentType.values()) {
            String uuid = before.uuid(type, to);
            if (!uuids.get(type).equals(uuid)) {
                throw new IllegalStateException("the index " + indexName(type, to) + " is not the one created for "
                        + next.name() + (uuid == null ? ": it was deleted" : ": it was deleted and created again")
                        + " (by the start of another indexer on the prefix " + indexPrefix + "?)");
            }
        }
        List<Action> actions = new ArrayList<>();
        for (DocumentType type : DocumentType.values()) {
            String alias = alias(type);
            actions.add(Action.of(a -> a.add(add -> add.index(indexName(type, to)).alias(alias))));
            actions.add(from == 0
                    ? Action.of(a -> a.removeIndex(remove -> remove.index(alias)))
                    : Action.of(a -> a.remove(remove -> remove.index(indexName(type, from)).alias(alias)
                            .mustExist(true))));
        }
        String what = "pointing the aliases " + aliases() + " at " + next.name();
        try {
            UpdateAliasesResponse response = index.request(what,
                    client -> client.indices().updateAliases(u -> u.actions(actions)));
            if (!response.acknowledged()) {
                LOG.warn("OpenSearch did not confirm in time that every node applied the switch to {}", next.name());
            }
        } catch (OpenSearchUnavailableException e) {
            // The request may have been applied all the same: the aliases say.
            long now;
            try {
                now = read(index).current();
            } catch (RuntimeException again) {
                e.addSuppressed(again);
                throw e;
            }
            if (now != to) {
                throw e;
            }
            LOG.info("The switch to {} was applied although its answer was lost: {}", next.name(), e.getMessage());
        }
        index.addressThroughAliases();
    }

    /**
     * Closes {@code generation}'s index and deletes its indices; logs, without throwing, what it could not do (the next
     * start deletes them). The indices of {@link #LEGACY} were removed by the switch that replaced it. Indices the
     * aliases point at are never deleted.
     */
    @Override
    public synchronized void delete(Generation generation) {
        generation.index().close();
        created.remove(generation.name());
        long number = number(generation.name());
        if (number == 0) {
            return;
        }
        try {
            withAdmin(admin -> {
                if (read(admin).current() == number) {
                    LOG.warn("Not deleting generation {}: the aliases {} point at it", generation.name(), aliases());
                    return null;
                }
                deleteIndices(admin, List.of(DocumentType.values()).stream().map(t -> indexName(t, number))
                        .toList());
                return null;
            });
        } catch (RuntimeException e) {
            LOG.warn("Could not delete generation {} of the search index (the next start retries): {}",
                    generation.name(), e.toString());
        }
    }

    /** {@code opensearch http://host:port (changeflow-*)}, without credentials. */
    @Override
    public String describe() {
        return description;
    }

    /** What the cluster holds under the prefix, per type: whether a plain index exists, and the generations. */
    private static final class Layout {
        /** Per type: generation number to its index's UUID. */
        final Map<DocumentType, Map<Long, String>> generations = new EnumMap<>(DocumentType.class);
        /** Per type: the numbers of the generations whose index carries the alias. */
        final Map<DocumentType, Set<Long>> aliased = new EnumMap<>(DocumentType.class);
        final Map<DocumentType, Boolean> plain = new EnumMap<>(DocumentType.class);

        Layout() {
            for (DocumentType type : DocumentType.values()) {
                generations.put(type, new TreeMap<>());
                aliased.put(type, new TreeSet<>());
                plain.put(type, false);
            }
        }

        /** The number of the generation the aliases point at, 0 for none (the legacy layout). */
        long current() {
            Set<Long> numbers = new TreeSet<>();
            for (DocumentType type : DocumentType.values()) {
                Set<Long> behind = aliased.get(type);
                if (behind.size() > 1) {
                    throw new IllegalStateException("the alias of " + type.table() + " points at generations "
                            + behind + ": it must point at one");
                }
                numbers.add(behind.isEmpty() ? 0L : behind.iterator().next());
            }
            if (numbers.size() > 1) {
                throw new IllegalStateException("the aliases point at different generations (0: none): "
                        + aliased + "; plain indices: " + plain);
            }
            return numbers.iterator().next();
        }

        long highest() {
            return generations.values().stream().flatMap(g -> g.keySet().stream()).mapToLong(Long::longValue)
                    .max().orElse(0L);
        }

        String uuid(DocumentType type, long number) {
            return generations.get(type).get(number);
        }
    }

    /** Lists the indices {@code <prefix><table>} and {@code <prefix><table>-g*} with their aliases and UUIDs. */
    private Layout read(OpenSearchIndex client) {
        List<String> names = new ArrayList<>();
        for (DocumentType type : DocumentType.values()) {
            names.add(alias(type));
            names.add(alias(type) + SUFFIX + "*");
        }
        GetIndexResponse response = client.request("listing the indices " + names,
                c -> c.indices().get(g -> g.index(names).ignoreUnavailable(true).allowNoIndices(true)));
        Layout layout = new Layout();
        for (Map.Entry<String, IndexState> index : response.result().entrySet()) {
            for (DocumentType type : DocumentType.values()) {
                String alias = alias(type);
                if (index.getKey().equals(alias)) {
                    layout.plain.put(type, true);
                    continue;
                }
                Matcher m = Pattern.compile(Pattern.quote(alias + SUFFIX) + "([1-9][0-9]{0,17})")
                        .matcher(index.getKey());
                if (m.matches()) {
                    long number = Long.parseLong(m.group(1));
                    layout.generations.get(type).put(number, uuid(index.getValue()));
                    if (index.getValue().aliases() != null && index.getValue().aliases().containsKey(alias)) {
                        layout.aliased.get(type).add(number);
                    }
                }
            }
        }
        return layout;
    }

    private static String uuid(IndexState state) {
        IndexSettings settings = state.settings();
        if (settings == null) {
            return "";
        }
        if (settings.index() != null && settings.index().uuid() != null) {
            return settings.index().uuid();
        }
        return Objects.requireNonNullElse(settings.uuid(), "");
    }

    private static void deleteIndices(OpenSearchIndex client, List<String> names) {
        client.request("deleting the indices " + names,
                c -> c.indices().delete(d -> d.index(names).ignoreUnavailable(true)));
    }

    private <T> T withAdmin(Function<OpenSearchIndex, T> work) {
        OpenSearchIndex admin = indices.apply("");
        try {
            return work.apply(admin);
        } finally {
            admin.close();
        }
    }

    private String alias(DocumentType type) {
        return indexPrefix + type.table();
    }

    private List<String> aliases() {
        return List.of(DocumentType.values()).stream().map(this::alias).toList();
    }

    private String indexName(DocumentType type, long number) {
        return alias(type) + SUFFIX + number;
    }

    private static String name(long number) {
        return number == 0 ? LEGACY : "gen-" + number;
    }

    /** The number of a generation's name, 0 for {@link #LEGACY}. */
    private static long number(String name) {
        if (LEGACY.equals(name)) {
            return 0;
        }
        Matcher m = GENERATION.matcher(name);
        if (!m.matches()) {
            throw new IllegalArgumentException("not a generation of an OpenSearch index: " + name);
        }
        return Long.parseLong(m.group(1));
    }
}
