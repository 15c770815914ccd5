function cases = test_predict_backward()
% predict and backward of transposedConv2dLayer, dltranspconv with groups
% and dilation, and sgdmupdate, against plain Octave loops written here
% (tconv_ref.m, tconv_ref_backward.m), in single and double, on random
% layers. The random draws are seeded, so a failure repeats.
  cases = {};
  for cls = {'double', 'single'}
    c = cls{1};
    cases(end+1, :) = {['layer_predict_random_' c], @() layer_predict_random(c)};
    cases(end+1, :) = {['layer_backward_random_' c], @() layer_backward_random(c)};
    cases(end+1, :) = {['dltranspconv_groups_dilation_' c], @() dltranspconv_random(c)};
    cases(end+1, :) = {['dltranspconv_same_dilated_' c], @() dltranspconv_same(c)};
  end
  cases(end+1, :) = {'backward_adjoint_identity', @backward_adjoint};
  cases(end+1, :) = {'predict_ssc_3d_input', @predict_ssc};
  cases(end+1, :) = {'plan_cache_many_shapes', @plan_cache};
  cases(end+1, :) = {'sgdmupdate_matches_the_formula', @sgdm_formula};
  cases(end+1, :) = {'sgdmupdate_zero_factor_freezes', @sgdm_frozen};
  cases(end+1, :) = {'training_loop_learns', @training_learns};
end

function tol = tol_of(cls)
  if strcmp(cls, 'single'), tol = 2e-5; else, tol = 1e-12; end
end

% A random layer: filter 1..5 per dimension, stride 1..4, one of the four
% cropping forms (kept small enough to leave an output).
function [l, x, crop] = random_layer(cls, k)
  rand('seed', 1000 + k); randn('seed', 2000 + k);
  fs = randi(5, 1, 2);
  st = randi(4, 1, 2);
  C = randi(6);
  F = randi(7);
  H = randi(5);
  W = randi(6);
  N = randi(3);
  fullH = (H - 1) * st(1) + fs(1);
  fullW = (W - 1) * st(2) + fs(2);
  switch mod(k, 4)
    case 0
      cropping = 'same';
      crop = tconv_same_crop(fs, st, [1 1]);
    case 1
      cropping = 0;
      crop = [0 0 0 0];
    case 2
      cropping = [randi(fullH) - 1, randi(fullW) - 1];
      cropping = floor(cropping / 2);
      crop = [cropping(1) cropping(1) cropping(2) cropping(2)];
    otherwise
      t = randi(fullH) - 1; b = randi(fullH - t) - 1;
      lft = randi(fullW) - 1; r = randi(fullW - lft) - 1;
      cropping = [t b lft r];
      crop = cropping;
  end
  l = transposedConv2dLayer(fs, F, 'Stride', st, 'Cropping', cropping, ...
                            'BiasInitializer', 'narrow-normal');
  l = initialize(l, [H W C], 'Seed', k);
  l.Bias = l.Bias * 100;    % a visible bias
  x = randn(H, W, C, N, cls);
end

function layer_predict_random(cls)
  for k = 1:24
    [l, x, crop] = random_layer(cls, k);
    y = predict(l, x);
    assert(isa(y, cls), 'predict returned %s for %s', class(y), cls);
    want = tconv_ref(x, l.Weights, l.Bias, l.Stride, [1 1], crop);
    tconv_assert_close(y, want, tol_of(cls), sprintf('layer %d (%s)', k, mat2str([l.FilterSize l.Stride crop])));
  end
end

function layer_backward_random(cls)
  for k = 1:16
    [l, x, crop] = random_layer(cls, 100 + k);
    y = predict(l, x);
    dy = randn(size(y), cls);
    [dx, dw, db] = backward(l, x, dy);
    assert(isa(dx, cls) && isa(dw, cls) && isa(db, cls));
    [rx, rw, rb] = tconv_ref_backward(x, l.Weights, dy, l.Stride, [1 1], crop);
    what = sprintf('layer %d', 100 + k);
    tconv_assert_close(dx, rx, tol_of(cls), [what ' dLdX']);
    tconv_assert_close(dw, reshape(rw, size(l.Weights)), tol_of(cls), [what ' dLdW']);
    tconv_assert_close(db, rb, tol_of(cls), [what ' dLdB']);
  end
end

function dltranspconv_random(cls)
  for k = 1:20
    rand('seed', 3000 + k); randn('seed', 4000 + k);
    G = randi(3);
    Cg = randi(3);
    Fg = randi(4);
    kh = randi(4); kw = randi(4);
    st = randi(3, 1, 2);
    dil = randi(3, 1, 2);
    H = randi(4); W = randi(5); N = randi(2);
    x = randn(H, W, Cg * G, N, cls);
    w = randn(kh, kw, Fg, Cg, G, cls);
    b = randn(1, Fg * G, cls);              % any vector of F values
    fullH = (H - 1) * st(1) + (kh - 1) * dil(1) + 1;
    fullW = (W - 1) * st(2) + (kw - 1) * dil(2) + 1;
    crop = [floor((randi(fullH) - 1) / 2) 0 0 floor((randi(fullW) - 1) / 2)];
    y = dltranspconv(x, w, b, 'Stride', st, 'DilationFactor', dil, 'Cropping', crop, 'NumGroups', G);
    assert(isa(y, cls));
    want = tconv_ref(x, w, b, st, dil, crop);
    tconv_assert_close(y, want, tol_of(cls), sprintf('dltranspconv %d g%d d%s', k, G, mat2str(dil)));
  end
end

function dltranspconv_same(cls)
  for k = 1:8
    rand('seed', 5000 + k); randn('seed', 6000 + k);
    kh = randi(4); kw = randi(4);
    st = randi(4, 1, 2);
    dil = randi(2, 1, 2);
    x = randn(3, 4, 4, 2, cls);
    w = randn(kh, kw, 3, 2, 2, cls);        % 2 groups: C 4, F 6
    y = dltranspconv(x, w, 0.5, 'Stride', st, 'DilationFactor', dil, 'Cropping', 'same');
    assert(isequal(size(y), [3 * st(1), 4 * st(2), 6, 2]));
    want = tconv_ref(x, w, 0.5 * ones(1, 6), st, dil, tconv_same_crop([kh kw], st, dil));
    tconv_assert_close(y, want, tol_of(cls), sprintf('same %d', k));
  end
end

function backward_adjoint()
  % <predict(x) - b, dy> = <x, dLdX> = <w, dLdW>, with no reference at all.
  [l, x] = random_layer('double', 7);
  l.Bias(:) = 0;
  y = predict(l, x);
  dy = randn(size(y));
  [dx, dw] = backward(l, x, dy);
  a = y(:)' * dy(:);
  tconv_assert_close(x(:)' * dx(:), a, 1e-12, '<x, dLdX>');
  tconv_assert_close(double(l.Weights(:))' * dw(:), a, 1e-12, '<w, dLdW>');
end

function predict_ssc()
  w = randn(3, 3, 2, 4);
  x = randn(5, 5, 4);       % SSC: a single image
  l = transposedConv2dLayer(3, 2, 'Stride', 2, 'Weights', w, 'Bias', zeros(1, 1, 2));
  tconv_assert_close(predict(l, x), tconv_ref(x, w, [], [2 2], [1 1], [0 0 0 0]), 1e-12, 'SSC');
end

function plan_cache()
  % More shapes than the gateway caches (16), revisited: each answer must
  % still belong to its own layer.
  ls = cell(1, 20);
  xs = cell(1, 20);
  for k = 1:20
    ls{k} = initialize(transposedConv2dLayer(1 + mod(k, 3), 2, 'Stride', 1 + mod(k, 2)), ...
                       [3 + mod(k, 4), 4, 2], 'Seed', k);
    xs{k} = randn(3 + mod(k, 4), 4, 2);
  end
  for pass = 1:2
    for k = [1:20, 20:-1:1]
      y = predict(ls{k}, xs{k});
      want = tconv_ref(xs{k}, ls{k}.Weights, ls{k}.Bias, ls{k}.Stride, [1 1], [0 0 0 0]);
      tconv_assert_close(y, want, 1e-12, sprintf('layer %d pass %d', k, pass));
    end
  end
  tconv_mex('clear');
  tconv_assert_close(predict(ls{3}, xs{3}), ...
                     tconv_ref(xs{3}, ls{3}.Weights, ls{3}.Bias, ls{3}.Stride, [1 1], [0 0 0 0]), ...
                     1e-12, 'after clear');
end

function sgdm_formula()
  % MATLAB's SGDM with the layer's factors, written out here.
  randn('seed', 7);
  l = transposedConv2dLayer([2 3], 4, 'WeightLearnRateFactor', 2, 'BiasLearnRateFactor', 0.5, ...
                            'WeightL2Factor', 3, 'BiasL2Factor', 0.25);
  l = initialize(l, [4 4 3], 'Seed', 3);
  l.Bias = randn(1, 1, 4, 'single');
  lr = 0.05; mom = 0.8; l2 = 1e-2;
  w = double(l.Weights); b = double(l.Bias);
  vw = zeros(size(w)); vb = zeros(size(b));
  vel = [];
  for step = 1:3
    dw = randn(size(w)); db = randn(size(b));
    [l, vel] = sgdmupdate(l, dw, db, vel, lr, mom, l2);
    vw = mom * vw - lr * 2 * (dw + l2 * 3 * w);
    w = w + vw;
    vb = mom * vb - lr * 0.5 * (db + l2 * 0.25 * b);
    b = b + vb;
    assert(isa(l.Weights, 'single') && isa(vel.Weights, 'single'));
    tconv_assert_close(l.Weights, single(w), 1e-5, sprintf('weights, step %d', step));
    tconv_assert_close(l.Bias, single(b), 1e-5, sprintf('bias, step %d', step));
    tconv_assert_close(vel.Weights, single(vw), 1e-5, sprintf('velocity, step %d', step));
    w = double(l.Weights); b = double(l.Bias);
    vw = double(vel.Weights); vb = double(vel.Bias);
  end
end

function sgdm_frozen()
  l = initialize(transposedConv2dLayer(3, 2, 'WeightLearnRateFactor', 0), [3 3 2], 'Seed', 1);
  w0 = l.Weights;
  b0 = l.Bias;
  [l2, vel] = sgdmupdate(l, ones(size(w0)), ones(size(b0)), [], 0.1, 0.9, 0);
  assert(isequal(l2.Weights, w0), 'a learn-rate factor of 0 must freeze the weights');
  tconv_assert_close(l2.Bias, b0 - 0.1, 1e-6, 'bias');
  assert(isequal(size(vel.Bias), size(b0)));
end

function training_learns()
  % A layer learns a teacher layer's map with MSE, predict + backward + SGDM.
  randn('seed', 11);
  teacher = initialize(transposedConv2dLayer(3, 2, 'Stride', 2, 'Cropping', 'same'), [4 4 3], 'Seed', 5);
  student = initialize(transposedConv2dLayer(3, 2, 'Stride', 2, 'Cropping', 'same'), [4 4 3], 'Seed', 6);
  x = randn(4, 4, 3, 8, 'single');
  t = predict(teacher, x);
  vel = [];
  for step = 1:200
    y = predict(student, x);
    loss = 0.5 * sum((y(:) - t(:)) .^ 2) / numel(y);
    if step == 1, first = loss; end
    [~, dw, db] = backward(student, x, (y - t) / numel(y));
    [student, vel] = sgdmupdate(student, dw, db, vel, 2, 0.9, 0);
  end
  assert(loss < 0.01 * first, 'loss %g -> %g', first, loss);
end
