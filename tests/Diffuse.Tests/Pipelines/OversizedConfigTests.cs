using System.Diagnostics;
using System.Text.Json.Nodes;
using Diffuse.Configuration;
using Diffuse.IO;
using Diffuse.Models;
using Diffuse.Pipelines;
using Diffuse.Tests.IO;
using Xunit;

namespace Diffuse.Tests.Pipelines;

/// <summary>
/// Issue 20: a config.json of huge sizes is a one-line error naming the key and the file, quickly and without building
/// anything; weights of another network are refused before the network is built.
/// </summary>
public class OversizedConfigTests
{
    internal static readonly ModelConfig SmallPoints = new()
    {
        Model = new MlpConfig { HiddenDim = 16, Blocks = 1, TimeEmbedDim = 16 },
        Scheduler = new SchedulerConfig { NumTrainTimesteps = 50 },
        Data = new DataSpec { Name = "moons", Dim = 2, Mean = [0f, 0f], Scale = 1 },
        Training = new TrainingSpec { Steps = 1 },
    };

    /// <summary>A point model folder of <paramref name="config"/> with its (untrained) weights.</summary>
    internal static string WriteModel(TempFolder folder, ModelConfig config, string name = "model")
    {
        var dir = folder.File(name);
        Directory.CreateDirectory(dir);
        using var network = NetworkTypes.Build(config.Network);
        ModelDirectory.SaveWeights(Path.Combine(dir, ModelDirectory.ModelFile), network);
        ModelDirectory.SaveWeights(Path.Combine(dir, ModelDirectory.EmaFile), network);
        ModelDirectory.WriteConfig(dir, config.ToJson());
        return dir;
    }

    static void Set(string dir, string section, string key, JsonNode value)
    {
        var path = Path.Combine(dir, ModelDirectory.ConfigFile);
        var root = JsonNode.Parse(File.ReadAllText(path))!;
        root[section]![key] = value;
        File.WriteAllText(path, root.ToJsonString());
    }

    [Theory]
    [InlineData("scheduler", "num_train_timesteps", 2147483647L, "scheduler num_train_timesteps must be at most 100000")]
    [InlineData("network", "hidden_dim", 2000000000L, "model hidden_dim must be at most 65536")]
    [InlineData("network", "blocks", 100000000L, "model blocks must be at most 1000")]
    [InlineData("network", "time_embed_dim", 1000000000L, "model time_embed_dim must be at most 65536")]
    [InlineData("data", "dim", 2000000000L, "data dim must be at most")]
    public void HugeSizesAreRefusedNamingTheKeyAndTheFile(string section, string key, long value, string expected)
    {
        using var folder = new TempFolder();
        var dir = WriteModel(folder, SmallPoints);
        Set(dir, section, key, value);
        var clock = Stopwatch.StartNew();

        var error = Assert.Throws<DiffuseException>(() => PointModel.Load(dir));

        Assert.Contains(expected, error.Message);
        Assert.StartsWith(Path.Combine(dir, ModelDirectory.ConfigFile), error.Message);
        Assert.DoesNotContain('\n', error.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }

    [Fact]
    public void AU_NetOfHugeChannelsIsRefused()
    {
        var config = new UNetConfig { BaseChannels = 100_000 };
        Assert.Contains("base_channels x channel_mult must be at most 65536", Assert.Throws<DiffuseException>(config.Validate).Message);
    }

    [Fact]
    public void ANetworkLargerThanTheMachineIsRefusedBeforeItIsBuilt()
    {
        using var folder = new TempFolder();
        var dir = WriteModel(folder, SmallPoints);
        Set(dir, "network", "hidden_dim", Limits.Width);
        Set(dir, "network", "blocks", Limits.Depth);

        var error = Assert.Throws<DiffuseException>(() => PointModel.Load(dir));

        Assert.StartsWith($"{Path.Combine(dir, ModelDirectory.ConfigFile)}: its network has", error.Message);
        Assert.Contains("more than the", error.Message);
    }

    [Fact]
    public void WeightsOfAnotherSizeAreRefusedBeforeTheNetworkIsBuilt()
    {
        using var folder = new TempFolder();
        var dir = WriteModel(folder, SmallPoints);
        // 4096 wide, 8 blocks: 270 million parameters (1 GB) that the 2-block file of 16 cannot fill.
        Set(dir, "network", "hidden_dim", 4096);
        Set(dir, "network", "blocks", 8);
        long before = GC.GetTotalAllocatedBytes(precise: true);

        var error = Assert.Throws<DiffuseException>(() => PointModel.Load(dir));

        Assert.StartsWith(Path.Combine(dir, ModelDirectory.EmaFile), error.Message);
        Assert.Contains("the weights belong to another model", error.Message);
        Assert.True(ModelDirectory.HoldsModel(dir));
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - before < 100 << 20);
    }

    [Fact]
    public void AWrongShapeIsFoundOnTheHeaderBeforeTheDataIsRead()
    {
        using var folder = new TempFolder();
        var dir = WriteModel(folder, SmallPoints);
        Set(dir, "network", "hidden_dim", 18); // within a factor of two: built, then compared name by name
        var error = Assert.Throws<DiffuseException>(() => PointModel.Load(dir));
        Assert.Contains("does not match the model in config.json", error.Message);
        Assert.Contains("has shape", error.Message);
    }

    [Fact]
    public void TheHeaderIsReadWithoutTheData()
    {
        using var folder = new TempFolder();
        var dir = WriteModel(folder, SmallPoints);
        var header = SafeTensors.ReadHeader(Path.Combine(dir, ModelDirectory.ModelFile));
        using var network = NetworkTypes.Build(SmallPoints.Network);
        Assert.Equal(network.ParameterCount(), header.Sum(t => t.Elements));
        Assert.Equal(network.state_dict().Keys.Order(StringComparer.Ordinal), header.Select(t => t.Name).Order(StringComparer.Ordinal));
    }
}
