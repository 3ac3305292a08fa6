using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace Vlm2Vec.ML;

/// <summary>Reaches the <see cref="IHostEnvironment"/> (the <c>MLContext</c>) behind a catalog.</summary>
internal static class HostEnvironments
{

    /// <summary>
    /// The catalog's environment. ML.NET 5 exposes it only to its own assemblies (<c>CatalogUtils.GetEnvironment</c> is
    /// internal), so it is read through the catalog's interface by reflection; should a future ML.NET rename it, a private
    /// <see cref="MLContext"/> is used, which loses only the routing of log messages to the caller's <c>MLContext.Log</c>.
    /// </summary>
    public static IHostEnvironment Of(TransformsCatalog catalog) => OfCatalog(catalog);

    /// <summary>The environment behind <c>mlContext.Model</c>, read the same way.</summary>
    public static IHostEnvironment Of(ModelOperationsCatalog catalog) => OfCatalog(catalog);

    private static IHostEnvironment OfCatalog(object catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var property = catalog.GetType().GetInterfaces().FirstOrDefault(i => i.Name == "IInternalCatalog")?.GetProperty("Environment");
        return property?.GetValue(catalog) as IHostEnvironment ?? new MLContext();
    }

    /// <summary>
    /// The environment's <c>GpuDeviceId</c> (set through <c>MLContext.GpuDeviceId</c>), read the same way; null when unset
    /// or unreadable.
    /// </summary>
    public static int? GpuDeviceId(IHostEnvironment environment) =>
        environment.GetType().GetProperty("GpuDeviceId", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance)?.GetValue(environment) as int?;

    /// <summary>The environment's <c>FallbackToCpu</c> (<c>MLContext.FallbackToCpu</c>), read the same way; false when unreadable.</summary>
    public static bool FallbackToCpu(IHostEnvironment environment) =>
        environment.GetType().GetProperty("FallbackToCpu", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance)?.GetValue(environment) is true;
}
