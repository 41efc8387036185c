using Diffuse.Configuration;
using Diffuse.IO;
using Diffuse.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Pipelines;

/// <summary>The steps every model folder load shares: read and validate config.json, build the network, load its weights.</summary>
static class ModelLoading
{
    public static ModelConfig ReadConfig(string directory)
    {
        ModelDirectory.RequireModel(directory);
        return ModelConfig.FromJson(ModelDirectory.ReadConfig(directory), Path.Combine(directory, ModelDirectory.ConfigFile));
    }

    /// <summary>
    /// Builds the network of <paramref name="config"/> and loads the EMA or the raw weights into it, in eval mode; disposed on
    /// failure. Before the network is built, the weight file's header is read and the network's size is checked against the
    /// machine's memory and the file's, so that a config.json of huge sizes, or weights of another network, is a one-line
    /// error naming the file instead of gigabytes of allocation; after, the header's names, shapes and dtypes are compared
    /// before any data is read.
    /// </summary>
    public static DenoiserNetwork LoadNetwork(string directory, bool useEma, NetworkConfig config)
    {
        var weights = Path.Combine(directory, useEma ? ModelDirectory.EmaFile : ModelDirectory.ModelFile);
        if (!File.Exists(weights))
            throw new DiffuseException($"'{directory}' has no {Path.GetFileName(weights)} (an image run writes it at its first checkpoint)");
        var header = SafeTensors.ReadHeader(weights);
        string configPath = Path.Combine(directory, ModelDirectory.ConfigFile);
        NetworkMemory.Check(config, copies: 2, configPath, "loading it");
        if (NetworkTypes.Parameters(config) is { } expected)
        {
            long held = header.Sum(t => t.Elements);
            // A factor of two either way: sizes that far apart are another network, whatever the names say.
            if (held < expected / 2 || held > 2 * expected)
                throw new DiffuseException($"{weights} holds {held:N0} values, but the network of {configPath} has {expected:N0} parameters; the weights belong to another model");
        }
        var network = NetworkTypes.Build(config);
        try
        {
            ModelDirectory.LoadWeights(weights, network);
        }
        catch
        {
            network.Dispose();
            throw;
        }
        network.eval();
        return network;
    }
}
