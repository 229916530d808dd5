/**
 * The directory stream behind {@code StreamingContext.textFileStream}: the directory listing, the
 * ledger of files taken, the plans and the RDD reading each file's lines.
 */
package io.sluice.engine.files.internal;
