namespace MultimodalMemory;

/// <summary>The sample's command line.</summary>
public sealed class MemoryAppOptions
{
    /// <summary>Environment variable naming the model folder used when <c>--model</c> is not given.</summary>
    public const string DefaultModelVariable = "VLM2VEC_DEMO_MODEL";

    /// <summary>The folder beside the app that holds the shipped demo model (a copy of <c>models/fashion-demo</c>).</summary>
    public const string ShippedModelFolderName = "demo-model";

    /// <summary>The folder beside the app that holds the 50 Fashion-MNIST sample images (a copy of <c>samples/images/fashion-mnist</c>).</summary>
    public const string ShippedDataFolderName = "demo-data";

    /// <summary>
    /// The model folder (<c>--model</c>); null: the folder in <see cref="DefaultModelVariable"/>, else the shipped demo
    /// model in <see cref="ShippedModelFolderName"/> beside the app.
    /// </summary>
    public string? ModelPath { get; set; }

    /// <summary>
    /// The folder of images and notes to ingest (<c>--data</c>); null: the shipped Fashion-MNIST sample images in
    /// <see cref="ShippedDataFolderName"/> beside the app (nothing when they are not there).
    /// </summary>
    public string? DataFolder { get; set; }

    /// <summary>
    /// Use the demo model's trained prompts (<c>--demo-prompts</c>): image queries are embedded as images are stored
    /// ("Represent the given image."), since the demo model was never trained on an image-query instruction. Null:
    /// on exactly when the shipped demo model is used.
    /// </summary>
    public bool? DemoPrompts { get; set; }

    /// <summary>The SQLite file of the memory (<c>--db</c>, default <c>memory.db</c>).</summary>
    public string DatabasePath { get; set; } = "memory.db";

    /// <summary>Text queries (<c>--query</c>, repeatable).</summary>
    public List<string> Queries { get; } = [];

    /// <summary>Image queries (<c>--image</c>, repeatable; paths inside the data folder).</summary>
    public List<string> ImageQueries { get; } = [];

    /// <summary>Results per query (<c>--top</c>, default 3).</summary>
    public int Top { get; set; } = 3;

    /// <summary>Device for the engine (<c>--device</c>, default the engine's).</summary>
    public string? Device { get; set; }

    /// <summary>Read queries from standard input when none are given (<c>--interactive</c>).</summary>
    public bool Interactive { get; set; }

    /// <summary>Parses the arguments.</summary>
    /// <exception cref="ArgumentException">An unknown option or a missing value.</exception>
    public static MemoryAppOptions Parse(IReadOnlyList<string> args)
    {
        var options = new MemoryAppOptions();
        for (var i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "--model": options.ModelPath = Value(); break;
                case "--data": options.DataFolder = Value(); break;
                case "--db": options.DatabasePath = Value(); break;
                case "--query": options.Queries.Add(Value()); break;
                case "--image": options.ImageQueries.Add(Value()); break;
                case "--top": options.Top = int.Parse(Value(), System.Globalization.CultureInfo.InvariantCulture); break;
                case "--device": options.Device = Value(); break;
                case "--interactive": options.Interactive = true; break;
                case "--demo-prompts": options.DemoPrompts = true; break;
                case "--no-demo-prompts": options.DemoPrompts = false; break;
                default: throw new ArgumentException($"Unknown option '{args[i]}'.");
            }
        }

        return options;
    }
}
