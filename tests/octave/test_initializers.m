function cases = test_initializers()
% The initializers' statistics on large tensors, with numIn = kh*kw*C and
% numOut = kh*kw*F (the documentation's definitions; C and F differ here so
% that swapping them would show), function handles, and seeding.
  cases = {
    'glorot_uniform_variance_and_bound', @glorot
    'he_normal_variance', @he
    'narrow_normal_std', @narrow_normal
    'zeros_and_ones', @zeros_ones
    'bias_narrow_normal_std', @bias_narrow
    'function_handles_get_the_size_vector', @handles
    'same_seed_same_weights', @seeding
  };
end

% kh kw = 5 x 5, C = 96, F = 32: 76800 weights; numIn 2400, numOut 800.
function w = weights_of(init)
  l = transposedConv2dLayer(5, 32, 'WeightsInitializer', init);
  l = initialize(l, [4 4 96], 'Seed', 12345);
  assert(isequal(size(l.Weights), [5 5 32 96]) && isa(l.Weights, 'single'));
  w = double(l.Weights(:));
end

function check_normal(w, sd, what)
  n = numel(w);
  % the sample mean is within 5 standard errors of 0, the sample standard
  % deviation within 2% of sd (its standard error is about sd/sqrt(2n), 0.26% here)
  assert(abs(mean(w)) < 5 * sd / sqrt(n), '%s: mean %g', what, mean(w));
  assert(abs(std(w) / sd - 1) < 0.02, '%s: std %g, expected %g', what, std(w), sd);
  % a normal, not a uniform: the fourth moment is 3 sd^4 (uniform: 1.8)
  k = mean(w .^ 4) / std(w) ^ 4;
  assert(abs(k - 3) < 0.15, '%s: kurtosis %g', what, k);
end

function glorot()
  w = weights_of('glorot');
  numIn = 5 * 5 * 96; numOut = 5 * 5 * 32;
  b = sqrt(6 / (numIn + numOut));
  assert(all(abs(w) <= b * (1 + 1e-6)), 'a weight beyond the bound %g', b);
  assert(max(abs(w)) > 0.99 * b, 'the weights do not reach the bound %g', b);
  v = 2 / (numIn + numOut);
  assert(abs(var(w) / v - 1) < 0.02, 'variance %g, expected %g', var(w), v);
  assert(abs(mean(w)) < 5 * sqrt(v / numel(w)), 'mean %g', mean(w));
end

function he()
  check_normal(weights_of('he'), sqrt(2 / (5 * 5 * 96)), 'he');
end

function narrow_normal()
  check_normal(weights_of('narrow-normal'), 0.01, 'narrow-normal');
end

function zeros_ones()
  assert(all(weights_of('zeros') == 0));
  assert(all(weights_of('ones') == 1));
  l = initialize(transposedConv2dLayer(2, 3, 'BiasInitializer', 'ones'), [2 2 1], 'Seed', 1);
  assert(isequal(l.Bias, ones(1, 1, 3, 'single')));
end

function bias_narrow()
  l = transposedConv2dLayer(1, 40000, 'BiasInitializer', 'narrow-normal');
  l = initialize(l, [1 1 1], 'Seed', 9);
  assert(isequal(size(l.Bias), [1 1 40000]));
  check_normal(double(l.Bias(:)), 0.01, 'bias narrow-normal');
end

function handles()
  % The handle's values encode the size vector it was given.
  fw = @(sz) repmat(single(sz(1) * 1000 + sz(2) * 100 + sz(3) * 10 + sz(4)), sz);
  fb = @(sz) repmat(sz(1) * 100 + sz(2) * 10 + sz(3), sz);
  l = transposedConv2dLayer([3 4], 5, 'WeightsInitializer', fw, 'BiasInitializer', fb);
  l = initialize(l, [8 8 6]);
  assert(isequal(size(l.Weights), [3 4 5 6]) && all(l.Weights(:) == 3456));
  assert(isequal(size(l.Bias), [1 1 5]) && all(l.Bias(:) == 115));
end

function seeding()
  l = transposedConv2dLayer(3, 4, 'BiasInitializer', 'narrow-normal');
  a = initialize(l, [5 5 2], 'Seed', 77);
  b = initialize(l, [5 5 2], 'Seed', 77);
  c = initialize(l, [5 5 2], 'Seed', uint64(78));
  assert(isequal(a.Weights, b.Weights) && isequal(a.Bias, b.Bias));
  assert(~isequal(a.Weights, c.Weights) && ~isequal(a.Bias, c.Bias));
  % the bias's stream is not the weights' first values
  assert(~isequal(a.Bias(:), a.Weights(1:4)'));
  % without a seed, two layers differ
  d = initialize(l, [5 5 2]);
  e = initialize(l, [5 5 2]);
  assert(~isequal(d.Weights, e.Weights));
end
