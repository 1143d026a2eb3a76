// Lucene 8 (Debian's liblucene8-java) as a reference of the text benchmark
// (issue #26; docs/benchmarks.md, "Text retrieval (issue #26) — baselines"),
// with the same two modes and output as verity_bench_xapian:
//
//   java -cp CLASSES:JARS LuceneBench known-item --docs docs.jsonl --queries queries.tsv
//       --run OUT.run [--stem english|none] [--depth 100] [--tag NAME]
//   java -cp CLASSES:JARS LuceneBench speed --passages passages.jsonl --queries queries.txt
//       --db DIR [--stem english|none] [--k 10] [--repeat 1]
//
// Analyzer: StandardAnalyzer without stopwords ("none") or EnglishAnalyzer
// (its stopwords, possessives, Porter stemmer; "english"). Queries: the
// classic QueryParser, default operator OR, the text escaped
// (QueryParser.escape) so that its syntax characters are only text.
// Similarity: BM25Similarity's defaults (k1 1.2, b 0.75). The speed mode
// indexes into an MMapDirectory (RAM buffer 256 MB, one commit, no
// force-merge), then one untimed pass over the queries (JIT and page-cache
// warm-up) and --repeat timed passes, one thread; prints one JSON line.
// scripts/bench_text.sh compiles and runs it.

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.CharArraySet;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.apache.lucene.analysis.standard.StandardAnalyzer;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.queryparser.classic.ParseException;
import org.apache.lucene.queryparser.classic.QueryParser;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.search.similarities.BM25Similarity;
import org.apache.lucene.store.ByteBuffersDirectory;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.MMapDirectory;
import org.apache.lucene.util.Version;

public final class LuceneBench {
  private String mode, docs, queries, run, db, tag = "lucene", stem = "english";
  private int depth = 100, k = 10, repeat = 1;

  public static void main(String[] args) throws Exception {
    LuceneBench b = new LuceneBench();
    b.parse(args);
    if (b.mode.equals("known-item")) b.knownItem(); else b.speed();
  }

  private static void usage(String why) {
    System.err.println("LuceneBench: " + why + "\nusage: LuceneBench known-item --docs F --queries F --run F"
        + " [--stem english|none] [--depth N] [--tag T]\n       LuceneBench speed --passages F --queries F"
        + " --db DIR [--stem english|none] [--k N] [--repeat N]");
    System.exit(2);
  }

  private void parse(String[] a) {
    if (a.length < 1 || !(a[0].equals("known-item") || a[0].equals("speed"))) usage("mode: known-item or speed");
    mode = a[0];
    for (int i = 1; i < a.length; i += 2) {
      if (i + 1 >= a.length) usage(a[i] + " needs a value");
      String v = a[i + 1];
      switch (a[i]) {
        case "--docs": case "--passages": docs = v; break;
        case "--queries": queries = v; break;
        case "--run": run = v; break;
        case "--db": db = v; break;
        case "--tag": tag = v; break;
        case "--stem": stem = v; break;
        case "--depth": depth = Integer.parseInt(v); break;
        case "--k": k = Integer.parseInt(v); break;
        case "--repeat": repeat = Integer.parseInt(v); break;
        default: usage("unknown option " + a[i]);
      }
    }
    if (!stem.equals("english") && !stem.equals("none")) usage("--stem: english or none");
    if (docs == null || queries == null) usage("--docs/--passages and --queries are required");
    if (mode.equals("known-item") && run == null) usage("--run is required");
    if (mode.equals("speed") && db == null) usage("--db is required");
  }

  private Analyzer analyzer() {
    return stem.equals("english") ? new EnglishAnalyzer() : new StandardAnalyzer(CharArraySet.EMPTY_SET);
  }

  // The "id" and "text" string fields of a JSON Lines record (the shapes our
  // tools write: a flat object whose other values are skipped).
  static String[] idAndText(String line) {
    String id = null, text = null;
    int[] pos = {0};
    skipTo(line, pos, '{');
    while (true) {
      skipSpace(line, pos);
      if (line.charAt(pos[0]) == '}') break;
      String key = readString(line, pos);
      skipTo(line, pos, ':');
      skipSpace(line, pos);
      if (line.charAt(pos[0]) == '"') {
        String value = readString(line, pos);
        if (key.equals("id")) id = value;
        else if (key.equals("text")) text = value;
      } else {
        skipValue(line, pos);
      }
      skipSpace(line, pos);
      if (line.charAt(pos[0]) == ',') pos[0]++;
    }
    if (id == null || text == null) throw new IllegalArgumentException("record without \"id\" or \"text\": " + line);
    return new String[] {id, text};
  }

  private static void skipSpace(String s, int[] p) {
    while (Character.isWhitespace(s.charAt(p[0]))) p[0]++;
  }

  private static void skipTo(String s, int[] p, char c) {
    while (s.charAt(p[0]) != c) p[0]++;
    p[0]++;
  }

  private static void skipValue(String s, int[] p) {  // a number, literal, object or array
    int nest = 0;
    for (;; p[0]++) {
      char c = s.charAt(p[0]);
      if (c == '"') { readString(s, p); p[0]--; continue; }
      if (c == '{' || c == '[') nest++;
      else if (c == '}' || c == ']') { if (nest == 0) return; nest--; if (nest == 0) { p[0]++; return; } }
      else if (c == ',' && nest == 0) return;
    }
  }

  private static String readString(String s, int[] p) {
    skipTo(s, p, '"');
    StringBuilder b = new StringBuilder();
    for (;;) {
      char c = s.charAt(p[0]++);
      if (c == '"') return b.toString();
      if (c != '\\') { b.append(c); continue; }
      char e = s.charAt(p[0]++);
      switch (e) {
        case 'n': b.append('\n'); break;
        case 't': b.append('\t'); break;
        case 'r': b.append('\r'); break;
        case 'b': b.append('\b'); break;
        case 'f': b.append('\f'); break;
        case 'u': b.append((char) Integer.parseInt(s.substring(p[0], p[0] + 4), 16)); p[0] += 4; break;
        default: b.append(e);
      }
    }
  }

  private long index(Directory dir) throws IOException {
    IndexWriterConfig config = new IndexWriterConfig(analyzer());
    config.setSimilarity(new BM25Similarity());
    config.setRAMBufferSizeMB(256);
    long bytes = 0;
    try (IndexWriter w = new IndexWriter(dir, config);
         BufferedReader in = Files.newBufferedReader(Paths.get(docs), StandardCharsets.UTF_8)) {
      for (String line; (line = in.readLine()) != null; ) {
        if (line.isBlank()) continue;
        String[] r = idAndText(line);
        bytes += r[1].getBytes(StandardCharsets.UTF_8).length;
        Document d = new Document();
        d.add(new StoredField("id", r[0]));
        d.add(new TextField("text", r[1], Field.Store.NO));
        w.addDocument(d);
      }
      w.commit();
    }
    return bytes;
  }

  private List<String[]> readQueries() throws IOException {
    List<String[]> out = new ArrayList<>();
    for (String line : Files.readAllLines(Paths.get(queries), StandardCharsets.UTF_8)) {
      if (line.isEmpty()) continue;
      int tab = line.indexOf('\t');
      out.add(tab < 0 ? new String[] {Integer.toString(out.size() + 1), line}
                      : new String[] {line.substring(0, tab), line.substring(tab + 1)});
    }
    return out;
  }

  private static Query parse(QueryParser parser, String text) throws ParseException {
    return parser.parse(QueryParser.escape(text));
  }

  private IndexSearcher searcher(Directory dir) throws IOException {
    IndexSearcher s = new IndexSearcher(DirectoryReader.open(dir));
    s.setSimilarity(new BM25Similarity());
    return s;
  }

  private void knownItem() throws Exception {
    Directory dir = new ByteBuffersDirectory();
    index(dir);
    IndexSearcher s = searcher(dir);
    QueryParser parser = new QueryParser("text", analyzer());
    try (BufferedWriter out = Files.newBufferedWriter(Paths.get(run), StandardCharsets.UTF_8)) {
      for (String[] q : readQueries()) {
        TopDocs top = s.search(parse(parser, q[1]), depth);
        int rank = 1;
        for (ScoreDoc sd : top.scoreDocs) {
          out.write(q[0] + " Q0 " + s.doc(sd.doc).get("id") + " " + rank++ + " " + sd.score + " " + tag + "\n");
        }
      }
    }
  }

  private static long directoryBytes(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
    }
  }

  private void speed() throws Exception {
    Path path = Paths.get(db);
    if (Files.exists(path)) {
      try (Stream<Path> files = Files.walk(path)) {
        files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
    }
    long t0 = System.nanoTime();
    long bytes;
    try (Directory dir = new MMapDirectory(path)) {
      bytes = index(dir);
    }
    double buildS = (System.nanoTime() - t0) / 1e9;
    long disk = directoryBytes(path);
    IndexSearcher s = searcher(new MMapDirectory(path));
    int passages = s.getIndexReader().numDocs();
    QueryParser parser = new QueryParser("text", analyzer());
    List<String[]> qs = readQueries();
    long hits = 0;
    for (String[] q : qs) hits += s.search(parse(parser, q[1]), k).scoreDocs.length;  // warm-up, untimed
    double[] us = new double[qs.size() * repeat];
    int n = 0;
    long s0 = System.nanoTime();
    for (int r = 0; r < repeat; r++) {
      for (String[] q : qs) {
        long a = System.nanoTime();
        hits += s.search(parse(parser, q[1]), k).scoreDocs.length;
        us[n++] = (System.nanoTime() - a) / 1e3;
      }
    }
    double searchS = (System.nanoTime() - s0) / 1e9;
    Arrays.sort(us);
    System.out.printf(java.util.Locale.ROOT,
        "{\"system\": \"lucene-%s\", \"lucene\": \"%s\", \"passages\": %d, \"text_mb\": %.3f, \"build_s\": %.3f, "
            + "\"passages_per_s\": %.1f, \"mb_per_s\": %.3f, \"disk_bytes\": %d, \"bytes_per_passage\": %.1f, "
            + "\"queries\": %d, \"k\": %d, \"qps\": %.1f, \"p50_us\": %.1f, \"p99_us\": %.1f, \"hits\": %d}%n",
        stem, Version.LATEST, passages, bytes / 1e6, buildS, passages / buildS, bytes / 1e6 / buildS, disk,
        (double) disk / passages, n, k, n / searchS, us[n / 2], us[Math.min(n - 1, (int) (0.99 * n))], hits);
  }
}
