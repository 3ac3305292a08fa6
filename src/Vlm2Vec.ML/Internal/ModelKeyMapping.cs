using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace Vlm2Vec.ML;

/// <summary>The saved form's first step: no input columns; it adds the key the settings are looked up by, and empty
/// stand-ins for the input columns the pipeline does not have.</summary>
[CustomMappingFactoryAttribute(ContractName)]
internal sealed class ModelKeyMapping : CustomMappingFactory<ModelKeyMapping.Input, ModelKeyMapping.Output>
{
    public const string ContractName = "Vlm2Vec.ML.ModelKey.v1";

    /// <summary>The value mapped to the settings JSON.</summary>
    public const int Key = 1;

    public static void Map(Input input, Output output)
    {
        output.ModelKey = Key;
    }

    public override Action<Input, Output> GetMapping() => Map;

    /// <summary>No columns.</summary>
    internal sealed class Input
    {
    }

    internal sealed class Output
    {
        [ColumnName(ColumnNames.ModelKey)]
        public int ModelKey { get; set; }

        [ColumnName(ColumnNames.EmptyText)]
        public string EmptyText { get; set; } = string.Empty;

        [ColumnName(ColumnNames.EmptyBytes)]
        public byte[] EmptyBytes { get; set; } = [];
    }
}
