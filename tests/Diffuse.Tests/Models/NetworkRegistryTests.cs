using Diffuse.Configuration;
using Diffuse.Guidance;
using Diffuse.IO;
using Diffuse.Models;
using Diffuse.Pipelines;
using Diffuse.Tests.Data;
using Diffuse.Tests.IO;
using Diffuse.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Diffuse.Tests.Models;

/// <summary>
/// A network type added from outside the library (<see cref="ProbeConfig"/>, registered here) goes through every public
/// path the built-in types take: config.json round trip, training with resume, loading, sampling with guidance.
/// </summary>
public class NetworkRegistryTests
{
    static NetworkRegistryTests() => ProbeConfig.Register();

    static ModelConfig Template(int steps, bool classes = false) => new()
    {
        Network = new ProbeConfig { Hidden = 8 },
        Scheduler = new SchedulerConfig { NumTrainTimesteps = 50 },
        Training = new TrainingSpec
        {
            Steps = steps, BatchSize = 8, LearningRate = 1e-3, WarmupSteps = 1, EmaDecay = 0.9, ValidationFraction = 0.1,
            CheckpointEvery = 0, ValidateEvery = 0, SampleEvery = 0, CondDrop = classes ? 0.2 : null,
        },
    };

    static string Data(TempFolder folder)
    {
        var data = Path.Combine(folder.Path, "idx");
        Directory.CreateDirectory(data);
        SyntheticImages.WriteIdxPair(data, "train", 40, 28, 28, 4);
        return data;
    }

    [Fact]
    public void ARegisteredTypeRoundTripsThroughConfigJsonByItsTypeName()
    {
        var config = Template(1) with { Data = new DataSpec { Name = "x", Dim = 4, Mean = [], Image = new ImageSpec { Channels = 1, Height = 2, Width = 2 } } };
        string json = config.ToJson();
        Assert.Contains("\"network\": {\n    \"type\": \"test_probe\"", json.Replace("\r\n", "\n"));
        var back = ModelConfig.FromJson(json, "config.json");
        var probe = Assert.IsType<ProbeConfig>(back.Network);
        Assert.Equal(8, probe.Hidden);
        Assert.IsType<ProbeNetwork>(NetworkTypes.Build(back.Network));
    }

    [Fact]
    public void AnUnknownTypeAndTwoNetworkSectionsAreOneLineErrors()
    {
        var config = new ModelConfig();
        string json = config.ToJson();
        var unknown = Assert.Throws<DiffuseException>(() => ModelConfig.FromJson(json.Replace("\"type\": \"mlp\"", "\"type\": \"transformer9\""), "c.json"));
        Assert.Contains("unknown network type 'transformer9'", unknown.Message);
        Assert.Contains("test_probe", unknown.Message); // the known ones, registrations included
        Assert.DoesNotContain("\n", unknown.Message);
        // An old "model" section beside the new "network" one is ambiguous.
        string both = json.Replace("\"network\": {", "\"model\": { \"type\": \"mlp\" },\n  \"network\": {");
        Assert.Contains("exactly one network section", Assert.Throws<DiffuseException>(() => ModelConfig.FromJson(both, "c.json")).Message);
        // No section at all is not filled in by the default MLP.
        var node = System.Text.Json.Nodes.JsonNode.Parse(json)!.AsObject();
        node.Remove("network");
        Assert.Contains("exactly one network section", Assert.Throws<DiffuseException>(() => ModelConfig.FromJson(node.ToJsonString(), "c.json")).Message);
    }

    [Fact]
    public void ConfigFilesOfTheOldFormReadAsTheirTypeAndKeepTheirFingerprint()
    {
        var config = new ModelConfig { Network = UNetConfig.Preset("tiny").ForImages(1, 28), Data = new DataSpec { Name = "m", Dim = 784, Mean = [], Image = new ImageSpec { Channels = 1, Height = 28, Width = 28 } } };
        var node = System.Text.Json.Nodes.JsonNode.Parse(config.ToJson())!.AsObject();
        // The old form: the same section under "unet" (the key config.json had before "network").
        var old = new System.Text.Json.Nodes.JsonObject();
        foreach (var (key, value) in node.ToArray()) { node.Remove(key); old[key == "network" ? "unet" : key] = value; }
        var read = ModelConfig.FromJson(old.ToJsonString(Json.Options), "config.json");
        Assert.IsType<UNetConfig>(read.Network);
        Assert.Equal(config.Fingerprint(), read.Fingerprint());
        // The fingerprint hashes the old form, so a checkpoint of a run begun before "network" resumes.
        var oldSteps0 = System.Text.Json.Nodes.JsonNode.Parse(old.ToJsonString())!.AsObject();
        oldSteps0["training"]!["steps"] = 0;
        string expected = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(oldSteps0.ToJsonString(Json.Options))))[..16].ToLowerInvariant();
        Assert.Equal(expected, read.Fingerprint());
    }

    [Fact]
    public void ARegisteredTypeTrainsResumesLoadsAndSamplesThroughTheLibrary()
    {
        using var folder = new TempFolder();
        string data = Data(folder), straight = Path.Combine(folder.Path, "straight"), resumed = Path.Combine(folder.Path, "resumed");
        var outcome = ImageTraining.Run(new ImageTrainingOptions { Data = data, OutDir = straight, Template = Template(4), ValidationImages = 4 });
        Assert.Equal(4, outcome.EndStep);
        Assert.True(double.IsFinite(outcome.FinalLoss));
        Assert.Contains("\"test_probe\"", File.ReadAllText(Path.Combine(straight, ModelDirectory.ConfigFile)));
        // Stopped and resumed: bitwise the same weights as one run.
        ImageTraining.Run(new ImageTrainingOptions { Data = data, OutDir = resumed, Template = Template(4), ValidationImages = 4, StopAtStep = 2 });
        ImageTraining.Run(new ImageTrainingOptions { OutDir = resumed, Resume = true, ValidationImages = 4 });
        Assert.Equal(File.ReadAllBytes(Path.Combine(straight, ModelDirectory.EmaFile)), File.ReadAllBytes(Path.Combine(resumed, ModelDirectory.EmaFile)));

        using var model = ImageModel.Load(straight);
        Assert.IsType<ProbeNetwork>(model.Network);
        using var g = new Generator(3);
        using var images = model.Sample(3, model.CreateScheduler("ddim"), 4, g);
        Assert.Equal(new long[] { 3, 1, 28, 28 }, images.shape);
        Assert.True(images.isfinite().all().item<bool>());
    }

    [Fact]
    public void ARegisteredClassConditionalTypeTakesLabelsAndGuidance()
    {
        using var folder = new TempFolder();
        string data = Data(folder), dir = Path.Combine(folder.Path, "run");
        ImageTraining.Run(new ImageTrainingOptions { Data = data, OutDir = dir, Template = Template(2, classes: true), ValidationImages = 4 });
        using var model = ImageModel.Load(dir);
        Assert.True(model.IsConditional);
        var network = Assert.IsType<ProbeNetwork>(model.Network);
        Assert.Equal(4, network.Config.Classes);
        using var g = new Generator(3);
        using var images = model.Sample(2, model.CreateScheduler("ddim"), 3, g, new Conditioning([1, 2], GuidanceScale: 2));
        // Guidance doubles the batch: the conditional rows carry the labels, the unconditional rows the null label (4).
        Assert.Equal(3, network.Calls.Count);
        var labels = network.Calls.Select(c => c.Labels!.Order().ToArray()).ToArray();
        Assert.All(labels, l => Assert.Equal(new long[] { 1, 2, 4, 4 }, l));
    }
}
