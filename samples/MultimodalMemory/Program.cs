using MultimodalMemory;

MemoryAppOptions options;
try
{
    options = MemoryAppOptions.Parse(args);
}
catch (Exception ex) when (ex is ArgumentException or FormatException)
{
    Console.Error.WriteLine(ex.Message);
    Console.Error.WriteLine("Usage: MultimodalMemory [--model <folder>] [--data <folder>] [--db memory.db] [--query TEXT]... [--image PATH]... [--top 3] [--device cpu] [--interactive] [--demo-prompts | --no-demo-prompts]");
    return 2;
}

using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancellation.Cancel();
};
return await new MemoryApp(options, Console.Out).RunAsync(Console.In, cancellation.Token);
