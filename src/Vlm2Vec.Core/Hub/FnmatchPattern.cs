using System.Text;
using System.Text.RegularExpressions;

namespace Vlm2Vec.Hub;

/// <summary>
/// One wildcard pattern with Python <c>fnmatch.fnmatchcase</c> semantics, as <c>huggingface_hub</c> applies them to repo
/// paths. Written by hand because the .NET globbing package (Microsoft.Extensions.FileSystemGlobbing) stops <c>*</c> at
/// <c>/</c> and has no <c>[!…]</c> sets, so the same pattern would select different files than Python does.
/// </summary>
internal sealed class FnmatchPattern
{
    private readonly Regex _regex;

    public FnmatchPattern(string pattern)
    {
        Pattern = pattern.Replace('\\', '/');
        if (Pattern.EndsWith('/'))
        {
            Pattern += "*";
        }

        _regex = new Regex(Translate(Pattern), RegexOptions.Singleline | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
    }

    public string Pattern { get; }

    public bool IsMatch(string path) => _regex.IsMatch(path);

    public override string ToString() => Pattern;

    /// <summary>The regular expression <c>fnmatch.translate</c> would build: <c>*</c> → <c>.*</c>, <c>?</c> → <c>.</c>, sets kept.</summary>
    internal static string Translate(string pattern)
    {
        var regex = new StringBuilder(pattern.Length * 2).Append(@"\A");
        var i = 0;
        while (i < pattern.Length)
        {
            var c = pattern[i++];
            switch (c)
            {
                case '*':
                    while (i < pattern.Length && pattern[i] == '*')
                    {
                        i++;
                    }

                    regex.Append(".*");
                    break;
                case '?':
                    regex.Append('.');
                    break;
                case '[':
                    var close = FindSetEnd(pattern, i);
                    if (close < 0)
                    {
                        regex.Append(@"\[");
                        break;
                    }

                    AppendSet(regex, pattern.AsSpan(i, close - i));
                    i = close + 1;
                    break;
                default:
                    regex.Append(Regex.Escape(c.ToString()));
                    break;
            }
        }

        return regex.Append(@"\z").ToString();
    }

    /// <summary>Index of the <c>]</c> closing a set that starts at <paramref name="start"/> (just after <c>[</c>), or -1.</summary>
    private static int FindSetEnd(string pattern, int start)
    {
        var j = start;
        if (j < pattern.Length && pattern[j] == '!')
        {
            j++;
        }

        if (j < pattern.Length && pattern[j] == ']')
        {
            j++; // a ']' first in the set is a literal
        }

        while (j < pattern.Length && pattern[j] != ']')
        {
            j++;
        }

        return j < pattern.Length ? j : -1;
    }

    private static void AppendSet(StringBuilder regex, ReadOnlySpan<char> set)
    {
        regex.Append('[');
        var k = 0;
        if (set.Length > 0 && set[0] == '!')
        {
            regex.Append('^');
            k = 1;
        }
        else if (set.Length > 0 && set[0] == '^')
        {
            regex.Append(@"\^");
            k = 1;
        }

        for (; k < set.Length; k++)
        {
            var c = set[k];
            if (c is '\\' or '[' or ']')
            {
                regex.Append('\\');
            }

            regex.Append(c);
        }

        regex.Append(']');
    }
}
