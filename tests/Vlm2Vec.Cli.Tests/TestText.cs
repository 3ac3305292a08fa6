using System.Text.RegularExpressions;

namespace Vlm2Vec.Cli.Tests;

internal static partial class TestText
{
    /// <summary>Whether <paramref name="text"/> holds a .NET stack frame line (<c>   at Namespace.Type.Method(...)</c>).</summary>
    public static bool HasStackFrame(string text) => StackFrame().IsMatch(text);

    [GeneratedRegex(@"(?m)^\s+at [\w.`<>|]+[.(]")]
    private static partial Regex StackFrame();
}
