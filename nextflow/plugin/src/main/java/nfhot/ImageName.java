package nfhot;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.regex.Pattern;

/**
 * An image name as Docker reads it, in its familiar form (no docker.io/library/, a tag always),
 * and the references nfhot makes for it: the same rules as nfhot's src/core/image/reference.ts.
 */
final class ImageName {
    static final String NFHOT_HOST = "nfhot.local";
    private static final Pattern COMPONENT = Pattern.compile("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*");
    private static final Pattern DOMAIN = Pattern.compile("(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?");
    private static final Pattern TAG = Pattern.compile("[\\w][\\w.-]{0,127}");
    private static final int MAX_NAME = 255;

    /** Registry host, "" for Docker Hub. */
    final String domain;
    /** Repository path without the domain. */
    final String path;
    final String tag;
    /** domain/path, or path for Docker Hub. */
    final String name;
    /** name:tag, as Docker lists it. */
    final String familiar;

    private ImageName(String domain, String path, String tag) {
        this.domain = domain;
        this.path = path;
        this.tag = tag;
        this.name = domain.isEmpty() ? path : domain + "/" + path;
        this.familiar = name + ":" + tag;
    }

    /** The name by tag, or null when it is not one (a digest, a file, an invalid name). */
    static ImageName parse(String input) {
        if (input == null || input.isEmpty() || input.length() > MAX_NAME + 130 || input.contains("@")) return null;
        for (char c : input.toCharArray()) if (c <= 0x20 || c == 0x7f) return null;
        String rest = input;
        String tag = "latest";
        int lastSlash = rest.lastIndexOf('/');
        int colon = rest.lastIndexOf(':');
        if (colon > lastSlash) {
            tag = rest.substring(colon + 1);
            rest = rest.substring(0, colon);
            if (!TAG.matcher(tag).matches()) return null;
        }
        String domain = "";
        int firstSlash = rest.indexOf('/');
        if (firstSlash > 0) {
            String first = rest.substring(0, firstSlash);
            if (first.contains(".") || first.contains(":") || first.equals("localhost") || !first.equals(first.toLowerCase())) {
                domain = first;
                rest = rest.substring(firstSlash + 1);
                if (!DOMAIN.matcher(domain).matches()) return null;
            }
        }
        if (domain.equals("docker.io") || domain.equals("index.docker.io")) domain = "";
        if (domain.isEmpty() && rest.startsWith("library/") && rest.split("/", -1).length == 2) rest = rest.substring("library/".length());
        for (String c : rest.split("/", -1)) if (!COMPONENT.matcher(c).matches()) return null;
        ImageName parsed = new ImageName(domain, rest, tag);
        return parsed.name.length() > MAX_NAME ? null : parsed;
    }

    /** Docker's name for a name as Podman lists it (localhost/NAME for a short name). */
    static String familiar(String listed) {
        int at = listed.indexOf('@');
        String name = at < 0 ? listed : listed.substring(0, at);
        if (name.startsWith("localhost/")) name = name.substring("localhost/".length());
        if (at >= 0) {
            ImageName parsed = parse(name);
            return (parsed == null ? name : parsed.name) + listed.substring(at);
        }
        ImageName parsed = parse(name);
        return parsed == null ? listed : parsed.familiar;
    }

    /** One of nfhot's own references (what an include already routed to): never routed again. */
    static boolean isNfhotRef(String name) {
        return name.startsWith(NFHOT_HOST + "/") || name.contains("/" + NFHOT_HOST + "/");
    }

    /** nfhot's repository for this image: its keeper, derivatives and active reference. */
    String nfhotRepository() {
        String prefix = domain.isEmpty() ? "" : domain.toLowerCase().replace(':', '-') + "/";
        String repo = NFHOT_HOST + "/" + prefix + path;
        return repo.length() <= MAX_NAME ? repo : NFHOT_HOST + "/h-" + hashHex(name).substring(0, 32);
    }

    /** With --keep-tag, the tag stays on the original and this reference names the active derivative. */
    String activeRef() {
        return nfhotRepository() + ":" + suffixTag(tag, "-active");
    }

    private static String suffixTag(String tag, String suffix) {
        if (tag.length() + suffix.length() <= 128) return tag + suffix;
        return tag.substring(0, 128 - suffix.length() - 9) + "-" + hashHex(tag).substring(0, 8) + suffix;
    }

    /** SHA-256 of the parts, each followed by a NUL, in hex. */
    static String hashHex(String... parts) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (String p : parts) {
                sha.update(p.getBytes(StandardCharsets.UTF_8));
                sha.update((byte) 0);
            }
            StringBuilder hex = new StringBuilder();
            for (byte b : sha.digest()) hex.append(String.format("%02x", b));
            return hex.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
