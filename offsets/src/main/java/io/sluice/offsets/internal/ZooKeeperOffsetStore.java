package io.sluice.offsets.internal;

import io.sluice.offsets.BatchCommit;
import io.sluice.offsets.OffsetFencedException;
import io.sluice.offsets.OffsetRange;
import io.sluice.offsets.OffsetStoreException;
import io.sluice.offsets.StaleBatchException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.kafka.common.TopicPartition;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ZooKeeper store, through Curator. Offsets live where Kafka 0.8-era tools and the reliable
 * receiver keep them, {@code /consumers/<group>/offsets/<topic>/<partition>} (the next offset as a
 * decimal string); the last batch id lives in {@code <root>/<group>/last} and the history in {@code
 * <root>/<group>/batches/<batchId, 19 digits>} (the commit as JSON).
 *
 * <p>A commit is ONE ZooKeeper multi-op: set {@code last} at the version read before (or create
 * it), set every partition's offset at the version whose value was checked against the range's
 * {@code from} (or create it), create the batch node. ZooKeeper applies all or none, and the
 * version checks fence a concurrent committer or reset: the loser's multi fails as a whole, and its
 * next attempt reads and checks again. After the multi, the group's batch nodes beyond {@code
 * historyRetention} are deleted, oldest first. Thread-safe; Curator's client is shared by all
 * calls.
 */
public final class ZooKeeperOffsetStore extends AbstractOffsetStore {

  private static final Logger LOG = LoggerFactory.getLogger(ZooKeeperOffsetStore.class);
  private static final int COMMIT_ATTEMPTS = 3;

  private final CuratorFramework client;
  private final boolean ownsClient;
  private final String connectString;
  private final String root;
  private final int historyRetention;
  private final CommitHook hook;
  private final Set<String> ensuredPaths = ConcurrentHashMap.newKeySet();

  /**
   * Connects to ZooKeeper, waiting up to {@code connectionTimeout}.
   *
   * @throws OffsetStoreException when ZooKeeper cannot be reached in time
   */
  public static ZooKeeperOffsetStore connect(
      String connectString,
      String root,
      Duration sessionTimeout,
      Duration connectionTimeout,
      int historyRetention,
      Clock clock,
      CommitHook hook) {
    CuratorFramework client =
        CuratorFrameworkFactory.builder()
            .connectString(connectString)
            .sessionTimeoutMs((int) sessionTimeout.toMillis())
            .connectionTimeoutMs((int) connectionTimeout.toMillis())
            .retryPolicy(new ExponentialBackoffRetry(100, 3))
            .build();
    client.start();
    try {
      if (!client.blockUntilConnected((int) connectionTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
        client.close();
        throw new OffsetStoreException(
            "cannot connect to ZooKeeper at "
                + connectString
                + " within "
                + connectionTimeout.toMillis()
                + " ms");
      }
    } catch (InterruptedException e) {
      client.close();
      Thread.currentThread().interrupt();
      throw new OffsetStoreException(
          "interrupted while connecting to ZooKeeper at " + connectString, e);
    }
    return new ZooKeeperOffsetStore(
        client, true, connectString, root, historyRetention, clock, hook);
  }

  /**
   * Creates the store on a started client; {@code ownsClient} says whether {@link #close()} closes
   * it.
   */
  public ZooKeeperOffsetStore(
      CuratorFramework client,
      boolean ownsClient,
      String connectString,
      String root,
      int historyRetention,
      Clock clock,
      CommitHook hook) {
    super(clock);
    this.client = client;
    this.ownsClient = ownsClient;
    this.connectString = connectString;
    this.root = root;
    this.historyRetention = historyRetention;
    this.hook = hook;
  }

  @Override
  public String describe() {
    return "zookeeper(" + connectString + ")";
  }

  static String offsetsPath(String group) {
    return "/consumers/" + group + "/offsets";
  }

  static String offsetPath(String group, String topic, int partition) {
    return offsetsPath(group) + "/" + topic + "/" + partition;
  }

  private String lastPath(String group) {
    return root + "/" + group + "/last";
  }

  private String batchesPath(String group) {
    return root + "/" + group + "/batches";
  }

  private String batchPath(String group, long batchId) {
    return batchesPath(group) + "/" + String.format("%019d", batchId);
  }

  // ---- reads

  @Override
  public Map<TopicPartition, Long> committed(String group) {
    checkGroup(group);
    ensureOpen();
    Map<TopicPartition, Long> result = new LinkedHashMap<>();
    try {
      for (String topic : sorted(children(offsetsPath(group)))) {
        List<String> partitions = new ArrayList<>(children(offsetsPath(group) + "/" + topic));
        partitions.sort((a, b) -> Integer.compare(parsePartition(a), parsePartition(b)));
        for (String p : partitions) {
          readOffset(offsetPath(group, topic, parsePartition(p)), null)
              .ifPresent(o -> result.put(new TopicPartition(topic, parsePartition(p)), o));
        }
      }
      return result;
    } catch (Exception e) {
      throw failure("read the offsets of group '" + group + "'", e);
    }
  }

  @Override
  public Map<TopicPartition, Long> committed(String group, Collection<TopicPartition> partitions) {
    checkGroup(group);
    ensureOpen();
    Map<TopicPartition, Long> result = new LinkedHashMap<>();
    try {
      for (TopicPartition tp : partitions) {
        readOffset(offsetPath(group, tp.topic(), tp.partition()), null)
            .ifPresent(o -> result.put(tp, o));
      }
      return result;
    } catch (Exception e) {
      throw failure("read the offsets of group '" + group + "'", e);
    }
  }

  /**
   * The offset in znode {@code path}, storing its stat in {@code stat} unless null; empty when
   * absent.
   */
  private Optional<Long> readOffset(String path, Stat stat) throws Exception {
    byte[] data = getData(path, stat);
    if (data == null) {
      return Optional.empty();
    }
    String text = new String(data, StandardCharsets.UTF_8).trim();
    try {
      return Optional.of(Long.parseLong(text));
    } catch (NumberFormatException e) {
      throw new OffsetStoreException(
          describe() + ": znode " + path + " holds '" + text + "', not a decimal offset");
    }
  }

  private static int parsePartition(String name) {
    try {
      return Integer.parseInt(name);
    } catch (NumberFormatException e) {
      return Integer.MAX_VALUE;
    }
  }

  @Override
  public OptionalLong lastBatchId(String group) {
    checkGroup(group);
    ensureOpen();
    try {
      return readLast(group, new Stat());
    } catch (Exception e) {
      throw failure("read the last batch of group '" + group + "'", e);
    }
  }

  private OptionalLong readLast(String group, Stat stat) throws Exception {
    byte[] data = getData(lastPath(group), stat);
    if (data == null) {
      return OptionalLong.empty();
    }
    return OptionalLong.of(Long.parseLong(new String(data, StandardCharsets.UTF_8).trim()));
  }

  @Override
  public List<BatchCommit> history(String group, int limit) {
    checkGroup(group);
    checkLimit(limit);
    ensureOpen();
    try {
      List<String> ids = new ArrayList<>(children(batchesPath(group)));
      ids.sort(Collections.reverseOrder());
      List<BatchCommit> result = new ArrayList<>();
      for (String id : ids) {
        if (result.size() >= limit) {
          break;
        }
        byte[] data = getData(batchesPath(group) + "/" + id, null);
        if (data != null) {
          result.add(parse(data, batchesPath(group) + "/" + id));
        }
      }
      return result;
    } catch (Exception e) {
      throw failure("read the history of group '" + group + "'", e);
    }
  }

  @Override
  public Optional<BatchCommit> batch(String group, long batchId) {
    checkGroup(group);
    ensureOpen();
    try {
      byte[] data = getData(batchPath(group, batchId), null);
      return data == null ? Optional.empty() : Optional.of(parse(data, batchPath(group, batchId)));
    } catch (Exception e) {
      throw failure("read batch " + batchId + " of group '" + group + "'", e);
    }
  }

  private BatchCommit parse(byte[] data, String path) {
    try {
      return CommitCodec.fromBytes(data, describe() + " znode " + path);
    } catch (IllegalArgumentException e) {
      throw new OffsetStoreException(e.getMessage(), e);
    }
  }

  // ---- commits

  @Override
  protected void doCommit(BatchCommit commit, boolean fenceOffsets) {
    String group = commit.group();
    try {
      ensurePath(batchesPath(group));
      for (OffsetRange r : commit.ranges()) {
        ensurePath(offsetsPath(group) + "/" + r.topic());
      }
      int attempt = 1;
      while (!tryCommit(commit, fenceOffsets)) {
        if (attempt++ >= COMMIT_ATTEMPTS) {
          throw new OffsetStoreException(
              describe()
                  + ": batch "
                  + commit.batchId()
                  + " of group '"
                  + group
                  + "' lost the race with concurrent commits "
                  + COMMIT_ATTEMPTS
                  + " times (the group's znodes kept"
                  + " changing between read and write): another driver is committing for this group, stop it");
        }
      }
    } catch (OffsetStoreException e) {
      throw e;
    } catch (Exception e) {
      throw failure("commit batch " + commit.batchId() + " of group '" + group + "'", e);
    }
    pruneHistory(group);
  }

  /**
   * One attempt: reads {@code last} and every range's offset znode with their versions, checks
   * them, and writes everything in one multi-op conditional on those versions (a znode read as
   * absent is created, which fails if it appeared meanwhile). Returns false when the multi failed
   * because a znode changed after the read; the next attempt reads again, so a concurrent commit or
   * reset ends in {@link StaleBatchException} or {@link OffsetFencedException} there, never in a
   * write over it.
   */
  private boolean tryCommit(BatchCommit commit, boolean fenceOffsets) throws Exception {
    String group = commit.group();
    Stat lastStat = new Stat();
    OptionalLong last = readLast(group, lastStat);
    byte[] id = Long.toString(commit.batchId()).getBytes(StandardCharsets.UTF_8);
    List<CuratorOp> ops = new ArrayList<>();
    ops.add(
        last.isPresent()
            ? client
                .transactionOp()
                .setData()
                .withVersion(lastStat.getVersion())
                .forPath(lastPath(group), id)
            : client.transactionOp().create().forPath(lastPath(group), id));
    Map<TopicPartition, Long> stored = new HashMap<>();
    for (OffsetRange r : commit.ranges()) {
      String path = offsetPath(group, r.topic(), r.partition());
      Stat stat = new Stat();
      Optional<Long> current = readOffset(path, stat);
      byte[] offset = Long.toString(r.untilOffset()).getBytes(StandardCharsets.UTF_8);
      if (current.isPresent()) {
        stored.put(r.topicPartition(), current.get());
        ops.add(
            client.transactionOp().setData().withVersion(stat.getVersion()).forPath(path, offset));
      } else {
        ops.add(client.transactionOp().create().forPath(path, offset));
      }
    }
    // Offsets first: they say what moved the group (a reset, another driver), batch ids only that
    // something did.
    if (fenceOffsets) {
      checkOffsets(commit, stored);
    }
    if (last.isPresent() && last.getAsLong() >= commit.batchId()) {
      throw new StaleBatchException(group, commit.batchId(), last.getAsLong());
    }
    ops.add(
        client
            .transactionOp()
            .create()
            .forPath(batchPath(group, commit.batchId()), CommitCodec.toBytes(commit)));
    Exception injected = null;
    try {
      hook.midway(commit);
    } catch (Exception e) {
      // Sent to ZooKeeper as a failing last operation, so the test proves the multi is all-or-none.
      injected = e;
      ops.add(client.transactionOp().check().forPath(root + "/__injected_failure__"));
    }
    try {
      client.transaction().forOperations(ops);
    } catch (KeeperException.BadVersionException | KeeperException.NodeExistsException e) {
      LOG.debug(
          "Commit of batch {} of group '{}' in {} met a concurrent change ({}); reading again",
          commit.batchId(),
          group,
          describe(),
          e.toString());
      return false;
    } catch (KeeperException e) {
      if (injected != null) {
        throw new OffsetStoreException(
            describe()
                + ": commit of batch "
                + commit.batchId()
                + " aborted, nothing was written: "
                + injected,
            injected);
      }
      throw e;
    }
    return true;
  }

  /**
   * Deletes the group's batch nodes beyond the newest {@code historyRetention}; best effort, since
   * the commit has succeeded: a failure is logged and the next commit prunes again.
   */
  private void pruneHistory(String group) {
    try {
      List<String> ids = new ArrayList<>(children(batchesPath(group)));
      if (ids.size() <= historyRetention) {
        return;
      }
      Collections.sort(ids);
      for (String id : ids.subList(0, ids.size() - historyRetention)) {
        client.delete().quietly().forPath(batchesPath(group) + "/" + id);
      }
    } catch (Exception e) {
      // History retention is best effort; the commit itself has succeeded.
      LOG.warn(
          "Could not prune the batch history of group '{}' in {}: {}",
          group,
          describe(),
          e.toString());
    }
  }

  private void ensurePath(String path) throws Exception {
    if (ensuredPaths.contains(path)) {
      return;
    }
    try {
      client.create().creatingParentsIfNeeded().forPath(path);
    } catch (KeeperException.NodeExistsException e) {
      // Created by an earlier commit or another committer: fine.
    }
    ensuredPaths.add(path);
  }

  private byte[] getData(String path, Stat stat) throws Exception {
    try {
      return stat == null
          ? client.getData().forPath(path)
          : client.getData().storingStatIn(stat).forPath(path);
    } catch (KeeperException.NoNodeException e) {
      return null;
    }
  }

  private List<String> children(String path) throws Exception {
    try {
      return client.getChildren().forPath(path);
    } catch (KeeperException.NoNodeException e) {
      return List.of();
    }
  }

  private static List<String> sorted(List<String> names) {
    List<String> copy = new ArrayList<>(names);
    Collections.sort(copy);
    return copy;
  }

  private OffsetStoreException failure(String what, Exception e) {
    if (e instanceof OffsetStoreException ose) {
      return ose;
    }
    if (e instanceof InterruptedException) {
      Thread.currentThread().interrupt();
    }
    return new OffsetStoreException(describe() + ": cannot " + what + ": " + e, e);
  }

  @Override
  protected void doClose() {
    if (ownsClient) {
      client.close();
    }
  }
}
