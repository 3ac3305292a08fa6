using Spectre.Console;
using Vlm2Vec.Cli.Output;

namespace Vlm2Vec.Cli.Tests;

public sealed class ProgressViewTests
{
    [Fact]
    public void Plain_progress_prints_milestones_of_long_items_and_one_line_when_done()
    {
        using var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer), Ansi = AnsiSupport.No, Interactive = InteractionSupport.No });
        var view = new PlainProgressView(console, ProgressUnit.Bytes, milestoneDelay: TimeSpan.Zero);

        var item = view.Add("weights.safetensors", 4096);
        item.Update(1100);  // 26 %: the 25 % line
        item.Update(1200);  // still under 50 %: nothing
        item.Update(3100);  // 75 %: one line, skipping 50 %
        item.Update(2000);  // going down (a restarted transfer): nothing
        item.Complete("downloaded");
        item.Complete("downloaded"); // once only
        item.Update(4096);

        var lines = writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(
            [
                "weights.safetensors: 25% (1.07 KiB of 4.00 KiB)",
                "weights.safetensors: 75% (3.03 KiB of 4.00 KiB)",
                "weights.safetensors: downloaded (4.00 KiB)",
            ],
            lines);
    }

    [Fact]
    public void Plain_progress_of_a_quick_item_prints_only_its_last_line()
    {
        using var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer), Ansi = AnsiSupport.No, Interactive = InteractionSupport.No });
        var view = new PlainProgressView(console, ProgressUnit.Items, milestoneDelay: TimeSpan.FromHours(1));

        var item = view.Add("images", 10);
        item.Update(3);
        item.Update(8);
        item.Complete();

        Assert.Equal("images: done (10)", writer.ToString().Trim());
    }

    [Theory]
    [InlineData(0, "0 B")]
    [InlineData(1023, "1023 B")]
    [InlineData(1024, "1.00 KiB")]
    [InlineData(1536, "1.50 KiB")]
    [InlineData(15 * 1024 * 1024 + 512 * 1024, "15.5 MiB")]
    [InlineData(4_521_000_000L, "4.21 GiB")]
    [InlineData(300L * 1024 * 1024 * 1024, "300 GiB")]
    public void Byte_sizes_are_formatted_in_powers_of_1024(long bytes, string expected)
    {
        Assert.Equal(expected, ByteSize.Format(bytes));
    }
}
