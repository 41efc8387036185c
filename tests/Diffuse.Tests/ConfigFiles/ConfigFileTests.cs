using System.Text.Json.Nodes;
using Diffuse.Configuration;
using Diffuse.Guidance;
using Xunit;

namespace Diffuse.Tests.ConfigFiles;

/// <summary>
/// Issue 20: keys that change what a model computes are required in config.json (C# records keep their defaults), and
/// every config error is one line naming the file and the key in plain words, never a .NET type.
/// </summary>
public class ConfigFileTests
{
    const string Source = "runs/x/config.json";

    static JsonObject Parse(string json) => JsonNode.Parse(json)!.AsObject();

    static DiffuseException Refused(JsonNode config) =>
        Assert.Throws<DiffuseException>(() => ModelConfig.FromJson(config.ToJsonString(), Source));

    static void AssertPlain(string message)
    {
        Assert.DoesNotContain('\n', message);
        Assert.DoesNotContain("System.", message);
        Assert.DoesNotContain("Diffuse.", message);
        Assert.DoesNotContain("BytePosition", message);
    }

    /// <summary>Removes (or, with <paramref name="toNull"/>, sets to null) the dotted <paramref name="key"/>.</summary>
    static JsonObject Without(string json, string key, bool toNull = false)
    {
        var root = Parse(json);
        var parts = key.Split('.');
        JsonObject parent = root;
        foreach (var part in parts[..^1]) parent = parent[part]!.AsObject();
        if (toNull) parent[parts[^1]] = null;
        else Assert.True(parent.Remove(parts[^1]), $"the fixture has no {key}");
        return root;
    }

    [Fact]
    public void ConfigsWrittenBeforeKeepLoading()
    {
        var moons = ModelConfig.FromJson(WrittenConfigs.Moons, Source);
        Assert.Equal(1000, moons.Scheduler.NumTrainTimesteps);
        var mnist = ModelConfig.FromJson(WrittenConfigs.ClassConditionalMnist, Source);
        Assert.Equal(10, mnist.Network.ClassCount);
        Assert.Equal(20, mnist.Scheduler.NumTrainTimesteps);
    }

    [Theory]
    [InlineData("scheduler.num_train_timesteps")]
    [InlineData("scheduler.beta_schedule")]
    [InlineData("scheduler.prediction_type")]
    [InlineData("scheduler.beta_start")]
    [InlineData("scheduler.variance_type")]
    [InlineData("data.mean")]
    [InlineData("data.scale")]
    [InlineData("network.hidden_dim")]
    [InlineData("scheduler")]
    [InlineData("training")]
    [InlineData("format")]
    public void AMissingKeyOfAPointModelIsNamed(string key)
    {
        foreach (bool toNull in new[] { false, true })
        {
            if (toNull && key == "format") continue; // format: null is a wrong format, said as such
            var error = Refused(Without(WrittenConfigs.Moons, key, toNull));
            Assert.Equal($"{Source} has no '{key}'; a model's config.json must give it (a default could change what the model computes)", error.Message);
        }
    }

    [Theory]
    [InlineData("data.image.channels")]
    [InlineData("data.image.height")]
    [InlineData("network.num_heads")]
    [InlineData("network.group_norm_groups")]
    [InlineData("network.channel_mult")]
    public void AMissingKeyOfAnImageModelIsNamed(string key)
    {
        var error = Refused(Without(WrittenConfigs.ClassConditionalMnist, key));
        Assert.StartsWith($"{Source} has no '{key}'", error.Message);
    }

    [Fact]
    public void AMissingImageSpecOfAU_NetIsRefused()
    {
        var error = Refused(Without(WrittenConfigs.ClassConditionalMnist, "data.image"));
        Assert.StartsWith(Source, error.Message);
        AssertPlain(error.Message);
    }

    [Fact]
    public void RecordsMadeInCSharpKeepTheirDefaults()
    {
        var config = new ModelConfig { Scheduler = new SchedulerConfig { NumTrainTimesteps = 50 } };
        var json = Parse(config.ToJson());
        Assert.Equal(50, ModelConfig.FromJson(json.ToJsonString(), Source).Scheduler.NumTrainTimesteps);
        Assert.Equal(1000, new SchedulerConfig().NumTrainTimesteps);
    }

    [Theory]
    [InlineData("scheduler", "num_train_timesteps", "\"abc\"", "'scheduler.num_train_timesteps' must be a whole number")]
    [InlineData("scheduler", "beta_schedule", "5", "'scheduler.beta_schedule' must be one of: linear, scaled_linear, squaredcos_cap_v2, sigmoid")]
    [InlineData("scheduler", "clip_sample", "3", "'scheduler.clip_sample' must be true or false or null")]
    [InlineData("data", "mean", "\"x\"", "'data.mean' must be a list of numbers")]
    [InlineData("training", "seed", "1e40", "'training.seed' must be a whole number")]
    [InlineData("network", "blocks", "\"three\"", "'network.blocks' must be a whole number")]
    [InlineData("network", "foo", "5", "unknown key 'network.foo'")]
    [InlineData("data", "image", "5", "'data.image' must be an object")]
    public void WrongValuesAreSaidInPlainWordsWithTheKeyAndTheFile(string section, string key, string value, string expected)
    {
        var root = Parse(WrittenConfigs.Moons);
        root[section]![key] = JsonNode.Parse(value);
        var error = Refused(root);
        Assert.Equal($"{Source} is not a valid model config: {expected}", error.Message);
        AssertPlain(error.Message);
    }

    [Theory]
    [InlineData("[]", "the file must hold an object")]
    [InlineData("5", "the file must hold an object")]
    [InlineData("{", "(line 1)")]
    [InlineData("{\"a\": 1}", "needs exactly one network section")]
    public void AFileThatIsNoConfigIsSaidInPlainWords(string json, string expected)
    {
        var error = Assert.Throws<DiffuseException>(() => ModelConfig.FromJson(json, Source));
        Assert.StartsWith(Source, error.Message);
        Assert.Contains(expected, error.Message);
        AssertPlain(error.Message);
    }

    [Fact]
    public void ClassifierAndSchedulerConfigsNameTheFileAndSpeakPlainly()
    {
        var classifier = Assert.Throws<DiffuseException>(() => NoisyClassifierConfig.FromJson("""{"format": "diffuse-classifier", "version": "one"}""", "clf/config.json"));
        Assert.Equal("clf/config.json is not a classifier config (written by 'diffuse train-classifier'): 'version' must be a whole number", classifier.Message);
        var scheduler = Assert.Throws<DiffuseException>(() => SchedulerConfig.FromJson("""{"num_train_timesteps": true}""", "s.json"));
        Assert.Equal("s.json is not a valid scheduler config: 'num_train_timesteps' must be a whole number", scheduler.Message);
    }

    /// <summary>
    /// Random damage to written configs (deleted keys, swapped types, huge and negative numbers, deep nesting): always a
    /// one-line <see cref="DiffuseException"/> (or a valid config), never another exception.
    /// </summary>
    [Fact]
    public void DamagedConfigsAreAlwaysOneLineErrors()
    {
        var random = new Random(20);
        JsonNode?[] values =
        [
            null, true, "x", "", 0, -1, 1, 2147483647, -2147483648, 9.9e300, -9.9e300, 1e-300, 0.5, 1e40,
            new JsonArray(), new JsonArray(1, 2), new JsonObject(), JsonNode.Parse("""{"type": "mlp"}"""), JsonNode.Parse("""[[[[[]]]]]"""),
        ];
        int cases = 0, accepted = 0;
        foreach (var fixture in new[] { WrittenConfigs.Moons, WrittenConfigs.ClassConditionalMnist })
        {
            var leaves = new List<string>();
            void Walk(JsonNode? node, string path)
            {
                leaves.Add(path);
                if (node is JsonObject o) foreach (var (k, v) in o) Walk(v, path.Length == 0 ? k : $"{path}.{k}");
            }
            Walk(Parse(fixture), "");
            leaves.Remove("");
            for (int i = 0; i < 1000; i++)
            {
                var root = Parse(fixture);
                for (int edits = 1 + random.Next(3); edits > 0; edits--)
                {
                    var parts = leaves[random.Next(leaves.Count)].Split('.');
                    JsonNode? parent = root;
                    foreach (var part in parts[..^1]) parent = parent is JsonObject po ? po[part] : null;
                    if (parent is not JsonObject target) continue;
                    if (random.Next(4) == 0) target.Remove(parts[^1]);
                    else target[parts[^1]] = values[random.Next(values.Length)]?.DeepClone();
                }
                cases++;
                try
                {
                    ModelConfig.FromJson(root.ToJsonString(), Source);
                    accepted++;
                }
                catch (DiffuseException e)
                {
                    Assert.StartsWith(Source, e.Message);
                    AssertPlain(e.Message);
                }
            }
        }
        var deep = string.Concat(Enumerable.Repeat("{\"a\":", 5000)) + "1" + new string('}', 5000);
        AssertPlain(Assert.Throws<DiffuseException>(() => ModelConfig.FromJson(deep, Source)).Message);
        Assert.True(accepted < cases / 2, $"{accepted} of {cases} damaged configs were accepted");
    }
}
