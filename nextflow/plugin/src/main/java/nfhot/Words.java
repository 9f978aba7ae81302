package nfhot;

import java.util.ArrayList;
import java.util.List;

/** Splits engine options into words as the shell of a task's .command.run does: quotes and backslashes, no expansion. */
final class Words {
    private Words() {}

    static List<String> split(String text) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        boolean inWord = false;
        char quote = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (quote == '\'') {
                if (c == '\'') quote = 0;
                else word.append(c);
            } else if (quote == '"') {
                if (c == '"') quote = 0;
                else if (c == '\\' && i + 1 < text.length() && "\"\\$`".indexOf(text.charAt(i + 1)) >= 0) word.append(text.charAt(++i));
                else word.append(c);
            } else if (Character.isWhitespace(c)) {
                if (inWord) words.add(word.toString());
                word.setLength(0);
                inWord = false;
            } else {
                inWord = true;
                if (c == '\'' || c == '"') quote = c;
                else if (c == '\\' && i + 1 < text.length()) word.append(text.charAt(++i));
                else word.append(c);
            }
        }
        if (inWord) words.add(word.toString());
        return words;
    }
}
