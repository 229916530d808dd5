package io.sluice.offsets;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

class FileOffsetStoreContractTest extends OffsetStoreContractTest {

  @TempDir Path dir;

  @Override
  protected OffsetStore newStore() {
    return OffsetStores.file(dir);
  }

  @Override
  protected OffsetStore newStoreFailingMidway() {
    return OffsetStores.fileBuilder().dir(dir).commitHook(c -> {
      throw new IOException("injected failure after half of the entry was written");
    }).build();
  }
}
