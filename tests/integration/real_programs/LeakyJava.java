// A JVM with native memory held for good (tests/integration/real_programs/
// test_java.py): threads that each make Deflaters and never end them (zlib's
// deflate state stays), and direct buffers kept reachable. The output is the
// same on every run.
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

public class LeakyJava {
  static final int THREADS = 4;
  static final int DEFLATERS_PER_THREAD = 3;
  static final int DIRECT_BUFFERS = 5;
  static final int DIRECT_SIZE = 777777;
  static final List<Object> KEEP = new ArrayList<>();  // nothing kept is ever freed

  static byte[] input(int thread, int n) {
    byte[] b = new byte[100000];
    for (int i = 0; i < b.length; ++i) b[i] = (byte) ((i * 31 + thread * 7 + n) % 97);
    return b;
  }

  public static void main(String[] args) throws Exception {
    long[] crcs = new long[THREADS];
    int[] sizes = new int[THREADS];
    Thread[] threads = new Thread[THREADS];
    for (int t = 0; t < THREADS; ++t) {
      final int id = t;
      threads[t] = new Thread(() -> {
        CRC32 crc = new CRC32();
        for (int n = 0; n < DEFLATERS_PER_THREAD; ++n) {
          Deflater d = new Deflater();  // never ended: its zlib state stays
          d.setInput(input(id, n));
          d.finish();
          byte[] out = new byte[1 << 17];
          int len = d.deflate(out);
          crc.update(out, 0, len);
          sizes[id] += len;
          synchronized (KEEP) { KEEP.add(d); }
        }
        crcs[id] = crc.getValue();
      });
      threads[t].start();
    }
    for (Thread t : threads) t.join();
    long direct = 0;
    for (int i = 0; i < DIRECT_BUFFERS; ++i) {
      ByteBuffer b = ByteBuffer.allocateDirect(DIRECT_SIZE);
      for (int j = 0; j < DIRECT_SIZE; j += 4096) b.put(j, (byte) (i + j));
      direct += b.capacity();
      KEEP.add(b);
    }
    for (int t = 0; t < THREADS; ++t)
      System.out.printf("thread %d: %d compressed bytes, crc %08x%n", t, sizes[t], crcs[t]);
    System.out.println("direct buffers: " + direct + " bytes; kept " + KEEP.size());
  }
}
