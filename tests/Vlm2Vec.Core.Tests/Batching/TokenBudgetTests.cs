using Microsoft.Extensions.Logging;
using Vlm2Vec.Preprocessing;

namespace Vlm2Vec.Core.Tests.Batching;

public sealed class TokenBudgetTests
{
    private const int Img = 151655;

    [Fact]
    public void Input_within_the_limit_is_returned_unchanged()
    {
        var logger = new CapturingLogger();
        int[] ids = [1, 2, 3];
        var result = TokenBudget.Apply(ids, Img, hasImages: false, maxTokens: 3, TruncationPolicy.Refuse, logger, "Input 0", out var truncated);
        Assert.Same(ids, result);
        Assert.False(truncated);
        Assert.Empty(logger.Entries);
    }

    [Fact]
    public void Refuse_policy_throws_with_the_counts()
    {
        var error = Assert.Throws<InputTooLongException>(() =>
            TokenBudget.Apply([1, 2, 3, 4, 5], Img, false, 4, TruncationPolicy.Refuse, new CapturingLogger(), "Input 7", out _));
        Assert.Equal(5, error.TokenCount);
        Assert.Equal(4, error.MaxTokens);
        Assert.Contains("Input 7", error.Message, StringComparison.Ordinal);
        Assert.Contains("TruncateText", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Truncation_drops_the_end_of_the_text_keeps_the_final_token_and_logs_a_warning()
    {
        var logger = new CapturingLogger();
        int[] ids = [1, 2, 3, 4, 5, 6, 7, 8, 9, 198];
        var result = TokenBudget.Apply(ids, Img, false, 6, TruncationPolicy.TruncateText, logger, "Input 3", out var truncated);
        Assert.Equal([1, 2, 3, 4, 5, 198], result);
        Assert.True(truncated);
        var entry = Assert.Single(logger.Entries);
        Assert.Equal(LogLevel.Warning, entry.Level);
        Assert.Contains("Input 3", entry.Message, StringComparison.Ordinal);
        Assert.Contains("10 tokens", entry.Message, StringComparison.Ordinal);
        Assert.Contains("last 4 text tokens", entry.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Truncation_never_cuts_an_image_run()
    {
        // Image run in front (VLM2Vec layout), then text; the cut falls after the run.
        int[] front = [Img, Img, Img, Img, 198, 10, 11, 12, 13, 14, 198];
        Assert.Equal([Img, Img, Img, Img, 198, 10, 198],
            TokenBudget.Apply(front, Img, true, 7, TruncationPolicy.TruncateText, new CapturingLogger(), "x", out _));

        // A run in the middle (chat layout) survives even when the text before it would reach the limit alone.
        int[] middle = [1, 2, 3, Img, Img, Img, 4, 5, 6];
        Assert.Equal([1, 2, Img, Img, Img, 6],
            TokenBudget.Apply(middle, Img, true, 6, TruncationPolicy.TruncateText, new CapturingLogger(), "x", out _));

        // Input ending in an image run: every image token is kept and the text before it is cut from its end.
        int[] tail = [1, 2, 3, 4, Img, Img];
        Assert.Equal([1, 2, Img, Img], TokenBudget.Apply(tail, Img, true, 4, TruncationPolicy.TruncateText, new CapturingLogger(), "x", out _));
    }

    [Fact]
    public void Image_tokens_alone_reaching_the_limit_are_refused_under_any_policy()
    {
        int[] ids = [Img, Img, Img, Img, 198, 5];
        foreach (var policy in new[] { TruncationPolicy.TruncateText, TruncationPolicy.Refuse })
        {
            var error = Assert.Throws<InputTooLongException>(() =>
                TokenBudget.Apply(ids, Img, true, 4, policy, new CapturingLogger(), "Input 1", out _));
            Assert.Contains("4 of them for its image(s)", error.Message, StringComparison.Ordinal);
            Assert.Equal(6, error.TokenCount);
        }
    }

    [Fact]
    public void Stray_placeholders_are_ordinary_text_when_the_input_has_no_image()
    {
        int[] ids = [Img, 198, 1, 2, 3, 4, 198];
        Assert.Equal([Img, 198, 1, 198], TokenBudget.Apply(ids, Img, false, 4, TruncationPolicy.TruncateText, new CapturingLogger(), "x", out _));
        Assert.Equal([Img, 198], TokenBudget.Apply(ids, Img, false, 2, TruncationPolicy.TruncateText, new CapturingLogger(), "x", out _));
    }
}
