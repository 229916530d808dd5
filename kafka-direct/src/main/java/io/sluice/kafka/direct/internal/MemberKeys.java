package io.sluice.kafka.direct.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerConfig;

/**
 * A group-mode stream's member key: what tells this process apart from the other processes of its
 * consumer group, stable across its restarts (it is part of the exactly-once Kafka sink's
 * transactional id, so that a restarted process fences what its predecessor left open).
 */
final class MemberKeys {

  private static final Pattern VALID = Pattern.compile("[A-Za-z0-9._-]{1,100}");

  private MemberKeys() {}

  /**
   * {@code group.instance.id} when set; else an id created once and kept in {@code
   * checkpointDir/members/<stream>.id}; else a random id for this run.
   *
   * @throws IllegalArgumentException when {@code group.instance.id} holds other characters than
   *     letters, digits, {@code .}, {@code _} and {@code -}
   */
  static String of(Map<String, Object> params, Optional<Path> checkpointDir, String stream) {
    Object instance = params.get(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
    if (instance != null && !instance.toString().isBlank()) {
      String key = instance.toString().trim();
      if (!VALID.matcher(key).matches()) {
        throw new IllegalArgumentException(
            "group.instance.id must be 1-100 letters, digits, '.', '_' or '-' in group mode (it"
                + " becomes part of transactional ids), was '"
                + key
                + "'");
      }
      return key;
    }
    if (checkpointDir.isEmpty()) {
      return UUID.randomUUID().toString();
    }
    Path file = checkpointDir.get().resolve("members").resolve(stream + ".id");
    try {
      if (Files.exists(file)) {
        String key = Files.readString(file, StandardCharsets.UTF_8).trim();
        if (VALID.matcher(key).matches()) {
          return key;
        }
      }
      String key = UUID.randomUUID().toString();
      Files.createDirectories(file.getParent());
      Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
      Files.writeString(tmp, key, StandardCharsets.UTF_8);
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      return key;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot keep the group member key in " + file, e);
    }
  }
}
