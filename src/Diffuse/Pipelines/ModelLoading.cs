using Diffuse.Configuration;
using Diffuse.IO;
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

    /// <summary>Builds a network with <paramref name="create"/> and loads the EMA or the raw weights into it, in eval mode; disposed on failure.</summary>
    public static T LoadNetwork<T>(string directory, bool useEma, Func<T> create) where T : nn.Module
    {
        var weights = Path.Combine(directory, useEma ? ModelDirectory.EmaFile : ModelDirectory.ModelFile);
        if (!File.Exists(weights))
            throw new DiffuseException($"'{directory}' has no {Path.GetFileName(weights)} (an image run writes it at its first checkpoint)");
        var network = create();
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
